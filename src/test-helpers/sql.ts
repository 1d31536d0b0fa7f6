/** What the SQL tests share. */

let seq = 0;

/** A table name no other test (or concurrent run) uses: `mlpipe_<prefix>_<pid>_<time>_<n>`. */
export function uniqueTable(prefix: string): string {
  seq += 1;
  return `mlpipe_${prefix}_${process.pid}_${Date.now().toString(36)}_${seq}`;
}
