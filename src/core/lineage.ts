/** Where a dataset came from; recorded in the dataset file and carried into the bundle manifest. */
export interface Lineage {
  source: {
    /** `file`, `stdin` or `dataset` (a dataset file read again). */
    kind: 'file' | 'stdin' | 'dataset';
    /** The path as given on the command line or in the config. */
    path?: string;
    format: string;
    /** Size and sha256 of the source file's bytes, when it is a file. */
    bytes?: number;
    sha256?: string;
    /** The lineage of the dataset this one was read from, when kind is `dataset`. */
    parent?: Lineage;
  };
  rows: number;
  columns: number;
  /** sha256 of the dataset's Arrow data without metadata: equal data, equal fingerprint. */
  fingerprint: string;
  /** ISO time the data was loaded. */
  loadedAt: string;
  mlpipeVersion: string;
}
