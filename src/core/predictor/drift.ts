import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from '../bundle/manifest.js';
import { flattenRecord, hasNestedValue } from '../records/flatten.js';
import type { ColumnProfile } from '../data/profile.js';
import { ownValue } from '../records/dict.js';
import { messageOf } from '../errors.js';
import type { FittedPipeline } from '../features/types.js';
import type { Histogram } from '../models/curves.js';
import { type InputProfile, REPORT_FILES, type ReportDetails, capText } from '../report/data.js';
import { type TruthSpellings, spell } from '../spellings.js';
import { type ColumnType, type DateOrder, toCell } from '../values.js';

/**
 * Input drift: live statistics of the records a model version is asked to predict, beside the
 * training profile its bundle holds, with a population stability index (PSI) per field. Only
 * aggregates are kept (counts, sums, fixed histograms, a bounded top-k of category values); memory is
 * bounded by the number of fields, whatever the traffic, and no record is stored.
 *
 * What a bundle holds, and so what PSI is computed from (report.json and featurizer.json):
 * - number, integer and datetime fields: the 20-bin histogram of the training rows and their missing
 *   count (report.json `inputs`: every input column, up to 1,000; reports written before it have
 *   `distributions`, the first 24 such columns only). Live values are counted in the same bins (values
 *   outside the training range in the outer bins).
 * - category and boolean fields: the training rows' 100 most frequent values with their counts, the
 *   rest as one "other" bin, and the missing count (older reports: the profile's five most frequent).
 * - text fields: missing rate only (free text has no bins).
 * The unknown-category rate counts values the featurizer's fitted categories (one-hot, ordinal,
 * frequency, target encoding) do not hold: values the model sees as "<other>".
 */

/** Fields tracked per model version (the first ones of the featurizer's inputs); more are not tracked. */
export const DRIFT_MAX_FIELDS = 1000;
/** Distinct category values outside the training profile counted per field (Space-Saving sketch). */
export const DRIFT_SKETCH_SIZE = 50;
/** Live category values reported per field, most frequent first. */
export const DRIFT_TOP_K = 10;
/** Longest category value kept in the sketch or a report (longer ones end in "…"). */
export const DRIFT_VALUE_MAX = 100;
/** Each training histogram bin is counted in this many finer live bins (for quantiles). */
const SUB_BINS = 10;
/** Bins without data count as this share in PSI (the usual floor; ln(0) has no value). */
const PSI_FLOOR = 1e-4;
/** The usual reading of PSI: below 0.1 no drift, 0.1–0.25 moderate, above 0.25 major. */
export const PSI_MODERATE = 0.1;
export const PSI_MAJOR = 0.25;

/** The training side of one field, from the bundle. */
export type FieldProfile = NumberFieldProfile | CategoryFieldProfile | TextFieldProfile;

interface FieldBase {
  name: string;
  type: ColumnType;
  /** Share of training rows without a value; null when the bundle has no profile of the column. */
  missingRate: number | null;
}

export interface NumberFieldProfile extends FieldBase {
  kind: 'number';
  dateOrder?: DateOrder;
  mean?: number;
  std?: number;
  min?: number;
  max?: number;
  /** Equal-width histogram of the training rows' values; absent when the bundle has none for the field. */
  histogram?: Histogram;
}

export interface CategoryFieldProfile extends FieldBase {
  kind: 'category';
  /** Non-missing training values; null without a profile. */
  count: number | null;
  /** Most frequent training values with their counts (at most five). */
  top: { value: string; count: number }[];
  /** The featurizer's fitted categories (values it knows); null when none of its steps has such a list. */
  known: string[] | null;
  truthSpellings?: TruthSpellings;
}

export interface TextFieldProfile extends FieldBase {
  kind: 'text';
}

/** The training profile of a bundle: one entry per input field, and what the bundle lacks for drift. */
export interface TrainingProfile {
  fields: FieldProfile[];
  /** What could not be compared, in words (e.g. no report.json, a field without histogram). */
  gaps: string[];
}

function ratio(part: number, whole: number): number {
  return whole > 0 ? part / whole : 0;
}

/** The fitted categories of a column's steps (states with a `categories` list), or null when none. */
function knownCategories(pipeline: FittedPipeline, column: string): string[] | null {
  let known: Set<string> | null = null;
  for (const step of pipeline.steps) {
    if (step.column !== column) continue;
    const state = step.state as { categories?: unknown } | null;
    if (state && typeof state === 'object' && Array.isArray(state.categories)) {
      known ??= new Set();
      for (const c of state.categories) if (typeof c === 'string') known.add(c);
    }
  }
  return known && [...known];
}

/**
 * The training profile of a model from its fitted featurizer and its report data (report.json; null
 * for a bundle written before reports): per input field its missing rate, statistics and histogram
 * or top values, and the featurizer's known categories.
 */
export function trainingProfile(pipeline: FittedPipeline, report: ReportDetails | null): TrainingProfile {
  const gaps: string[] = [];
  if (!report) gaps.push(`the bundle has no ${REPORT_FILES.data} (packaged by an mlpipe without reports): no training statistics; live statistics only`);
  const columns = new Map<string, ColumnProfile>();
  for (const c of report?.profile.columns ?? []) columns.set(c.name, c);
  const histograms = new Map<string, Histogram>();
  for (const d of report?.distributions ?? []) histograms.set(d.name, d.histogram);
  // The training rows' profile of every input column, in reports written since it existed: preferred.
  const profiles = new Map<string, InputProfile>();
  for (const p of report?.inputs ?? []) profiles.set(p.name, p);
  const inputs = pipeline.inputs.slice(0, DRIFT_MAX_FIELDS);
  if (pipeline.inputs.length > DRIFT_MAX_FIELDS) gaps.push(`only the first ${DRIFT_MAX_FIELDS} of ${pipeline.inputs.length} input fields are tracked`);
  const fields = inputs.map((input): FieldProfile => {
    // report.json caps names at 200 characters; look a long one up by its capped name.
    const col = columns.get(input.name) ?? columns.get(capText(input.name));
    const prof = profiles.get(capText(input.name));
    const missingRate = prof ? ratio(prof.missing, prof.rows) : col ? ratio(col.missing, col.missing + col.count) : null;
    const base = { name: input.name, type: input.type, missingRate };
    if (input.type === 'number' || input.type === 'integer' || input.type === 'datetime') {
      const histogram = prof ? prof.histogram : (histograms.get(input.name) ?? histograms.get(capText(input.name)));
      if (report && !histogram) {
        gaps.push(
          prof
            ? `${input.name}: no training row has a value: no PSI`
            : `${input.name}: ${REPORT_FILES.data} has no histogram of it (reports before input profiles have one for the first 24 number and date columns only): no PSI`,
        );
      }
      const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' && input.type === 'datetime' ? Date.parse(v) : undefined);
      return {
        ...base,
        kind: 'number',
        ...(input.dateOrder ? { dateOrder: input.dateOrder } : {}),
        ...(col?.mean !== undefined ? { mean: col.mean } : {}),
        ...(col?.std !== undefined ? { std: col.std } : {}),
        ...(num(col?.min) !== undefined ? { min: num(col?.min) as number } : {}),
        ...(num(col?.max) !== undefined ? { max: num(col?.max) as number } : {}),
        ...(histogram && histogram.counts.length > 0 ? { histogram } : {}),
      };
    }
    if (input.type === 'text') return { ...base, kind: 'text' };
    if (prof?.values) {
      return {
        ...base,
        kind: 'category',
        count: prof.rows - prof.missing,
        top: prof.values,
        known: input.type === 'boolean' ? null : knownCategories(pipeline, input.name),
        ...(col?.truthSpellings ? { truthSpellings: col.truthSpellings } : {}),
      };
    }
    if (col && col.distinctCapped) gaps.push(`${input.name}: more distinct values than the profile counts; its top values are approximate`);
    return {
      ...base,
      kind: 'category',
      count: col ? col.count : null,
      top: col?.top ?? [],
      known: input.type === 'boolean' ? null : knownCategories(pipeline, input.name),
      ...(col?.truthSpellings ? { truthSpellings: col.truthSpellings } : {}),
    };
  });
  return { fields, gaps };
}

/**
 * Reads a bundle's report.json (checked against the manifest's sha256) and builds its
 * {@link trainingProfile}. Synchronous: called once when a version goes live. A report that is
 * missing, damaged or changed since the bundle was verified gives a profile without training
 * statistics and says why in `gaps`; it never throws.
 */
export function readTrainingProfile(dir: string, manifest: Manifest, pipeline: FittedPipeline): TrainingProfile {
  const entry = ownValue(manifest.files, REPORT_FILES.data);
  if (!entry) return trainingProfile(pipeline, null);
  let report: ReportDetails | null = null;
  let problem: string | undefined;
  try {
    const bytes = readFileSync(join(dir, REPORT_FILES.data));
    if (createHash('sha256').update(bytes).digest('hex') !== entry.sha256) problem = `${REPORT_FILES.data} does not match its sha256 in the manifest`;
    else {
      const parsed = JSON.parse(bytes.toString('utf8')) as ReportDetails;
      if (parsed?.format === 'mlpipe.report-data' && parsed.formatVersion === 1) report = parsed;
      else problem = `${REPORT_FILES.data} is not report data of format version 1`;
    }
  } catch (err) {
    problem = `${REPORT_FILES.data} is unreadable (${messageOf(err)})`;
  }
  const profile = trainingProfile(pipeline, report);
  if (problem) profile.gaps[0] = `${problem}: no training statistics; live statistics only`;
  return profile;
}

/** Population stability index of two distributions over the same bins (counts; each normalized, floored). */
export function psi(expected: readonly number[], actual: readonly number[]): number {
  const e = expected.reduce((a, b) => a + b, 0);
  const a = actual.reduce((x, y) => x + y, 0);
  if (e <= 0 || a <= 0) return 0;
  let sum = 0;
  for (let i = 0; i < expected.length; i++) {
    const p = Math.max(PSI_FLOOR, (expected[i] as number) / e);
    const q = Math.max(PSI_FLOOR, (actual[i] as number) / a);
    sum += (q - p) * Math.log(q / p);
  }
  return sum;
}

/** How a PSI reads: none (< 0.1), moderate (0.1–0.25) or major (> 0.25). */
export function driftLevel(value: number): 'none' | 'moderate' | 'major' {
  return value > PSI_MAJOR ? 'major' : value >= PSI_MODERATE ? 'moderate' : 'none';
}

/** The quantiles reported for number fields. */
const QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95] as const;

/** Live number statistics: count, mean, min/max and a fixed histogram over the training range (plus both tails). */
class NumberStats {
  values = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  private readonly lo: number;
  private readonly width: number;
  /** Fine bins over [lo, hi]: SUB_BINS per training bin; null without a known range. */
  private readonly fine: Float64Array | null;
  private under = 0;
  private over = 0;

  constructor(private readonly profile: NumberFieldProfile) {
    const h = profile.histogram;
    const lo = h ? (h.edges[0] as number) : profile.min;
    const hi = h ? (h.edges[h.edges.length - 1] as number) : profile.max;
    const bins = (h ? h.counts.length : 20) * SUB_BINS;
    if (lo !== undefined && hi !== undefined && Number.isFinite(lo) && Number.isFinite(hi) && hi > lo) {
      this.lo = lo;
      this.width = (hi - lo) / bins;
      this.fine = new Float64Array(bins);
    } else {
      this.lo = 0;
      this.width = 0;
      this.fine = null;
    }
  }

  add(v: number): void {
    this.values++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    const fine = this.fine;
    if (!fine) return;
    if (v < this.lo) this.under++;
    else {
      const i = Math.floor((v - this.lo) / this.width);
      // The top edge belongs to the last bin, as in the training histogram.
      if (i < fine.length) fine[i]! += 1;
      else if (v <= this.lo + this.width * fine.length) fine[fine.length - 1]! += 1;
      else this.over++;
    }
  }

  /** Live counts in the training histogram's bins (tails in the outer bins); null without a histogram. */
  binned(): number[] | null {
    const h = this.profile.histogram;
    if (!h || !this.fine) return null;
    const out = new Array<number>(h.counts.length).fill(0);
    for (let i = 0; i < this.fine.length; i++) out[Math.floor(i / SUB_BINS)]! += this.fine[i] as number;
    out[0]! += this.under;
    out[out.length - 1]! += this.over;
    return out;
  }

  /** Quantile `q` estimated from the fine bins (linear within a bin; tails between the training range and the extremes seen). */
  quantile(q: number): number | null {
    if (this.values === 0) return null;
    if (!this.fine) return null;
    const rank = q * this.values;
    let seen = 0;
    const within = (from: number, to: number, count: number) => {
      const x = from + ((rank - seen) / count) * (to - from);
      return Math.min(this.max, Math.max(this.min, x));
    };
    if (this.under > 0 && rank <= this.under) return within(this.min, this.lo, this.under);
    seen += this.under;
    for (let i = 0; i < this.fine.length; i++) {
      const c = this.fine[i] as number;
      if (c > 0 && rank <= seen + c) return within(this.lo + i * this.width, this.lo + (i + 1) * this.width, c);
      seen += c;
    }
    return this.over > 0 ? within(this.lo + this.fine.length * this.width, this.max, this.over) : this.max;
  }

  quantiles(): Record<string, number | null> {
    return Object.fromEntries(QUANTILES.map((q) => [`p${Math.round(q * 100)}`, this.quantile(q)]));
  }
}

/**
 * Live category counts: exact for the values the bundle names (profile top values, fitted
 * categories), a Space-Saving sketch of at most {@link DRIFT_SKETCH_SIZE} entries for the others
 * (their counts may be over-estimated by at most the smallest count kept).
 */
class CategoryStats {
  values = 0;
  unknown = 0;
  private readonly exact = new Map<string, number>();
  private readonly sketch = new Map<string, number>();
  private readonly known: Set<string> | null;

  constructor(private readonly profile: CategoryFieldProfile) {
    for (const t of profile.top) this.exact.set(t.value, 0);
    for (const k of profile.known ?? []) this.exact.set(k, 0);
    this.known = profile.known ? new Set(profile.known) : null;
  }

  add(value: string): void {
    this.values++;
    if (this.known && !this.known.has(value)) this.unknown++;
    const n = this.exact.get(value);
    if (n !== undefined) {
      this.exact.set(value, n + 1);
      return;
    }
    const key = capText(value, DRIFT_VALUE_MAX);
    const s = this.sketch.get(key);
    if (s !== undefined) this.sketch.set(key, s + 1);
    else if (this.sketch.size < DRIFT_SKETCH_SIZE) this.sketch.set(key, 1);
    else {
      let minKey = '';
      let min = Infinity;
      for (const [k, c] of this.sketch) {
        if (c < min) {
          min = c;
          minKey = k;
        }
      }
      this.sketch.delete(minKey);
      this.sketch.set(key, min + 1);
    }
  }

  /** Live counts in the profile's bins: each top value, then "other". */
  binned(): number[] {
    const top = this.profile.top.map((t) => this.exact.get(t.value) ?? 0);
    return [...top, this.values - top.reduce((a, b) => a + b, 0)];
  }

  top(): { value: string; count: number; share: number }[] {
    const all: [string, number][] = [...this.exact].filter(([, c]) => c > 0);
    all.push(...this.sketch);
    all.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    return all.slice(0, DRIFT_TOP_K).map(([value, count]) => ({ value: capText(value, DRIFT_VALUE_MAX), count, share: ratio(count, this.values) }));
  }
}

/** One field's live state. */
interface FieldState {
  profile: FieldProfile;
  missing: number;
  /** Values the column's reader refused (the record was still predicted: never expected after validation). */
  unreadable: number;
  numbers?: NumberStats;
  categories?: CategoryStats;
}

/** A field's drift numbers as gauges show them. */
export interface FieldGauges {
  field: string;
  psi: number | null;
  missingRate: number | null;
  unknownRate: number | null;
}

/** One field of a {@link DriftReport}. */
export interface FieldDrift {
  field: string;
  type: ColumnType;
  /** Population stability index, training vs live; null (with `psiNote`) when it cannot be computed. */
  psi: number | null;
  psiNote?: string;
  /** none (< 0.1), moderate (0.1–0.25), major (> 0.25); null without a PSI. */
  drift: 'none' | 'moderate' | 'major' | null;
  training: Record<string, unknown>;
  live: Record<string, unknown>;
}

/** What `GET /v1/models/:name/drift` answers (besides the model). */
export interface DriftReport {
  /** When live statistics began (the version went live, or the server started). */
  since: string;
  records: number;
  /** Records predicted but not counted because the server was too busy (absent when none). */
  skipped?: number;
  fields: FieldDrift[];
  /** What the bundle lacks for a full comparison, in words. */
  gaps: string[];
}

const round = (x: number | null | undefined, digits = 6): number | null => (x === null || x === undefined || !Number.isFinite(x) ? null : Number(x.toPrecision(digits)));

/**
 * Live input statistics of one model version beside its training profile. {@link observe} takes the
 * records as clients sent them (nested ones are flattened as the predictor flattens them) and keeps
 * only aggregates.
 */
export class InputDrift {
  readonly since = new Date();
  records = 0;
  private readonly fields: FieldState[];

  constructor(readonly profile: TrainingProfile) {
    this.fields = profile.fields.map((p) => {
      const state: FieldState = { profile: p, missing: 0, unreadable: 0 };
      if (p.kind === 'number') state.numbers = new NumberStats(p);
      if (p.kind === 'category') state.categories = new CategoryStats(p);
      return state;
    });
  }

  /** Records predicted but not counted (the server was too busy to keep up); see {@link skip}. */
  skipped = 0;

  /**
   * Counts the values of `records[start, end)` (objects as a client sent them; anything else is
   * skipped).
   */
  observe(records: readonly unknown[], start = 0, end = records.length): void {
    for (let i = start; i < end; i++) {
      const raw = records[i];
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) continue;
      let record = raw as Record<string, unknown>;
      if (hasNestedValue(record)) {
        try {
          record = flattenRecord(record).record;
        } catch {
          continue; // the predictor refused it too; it was not predicted
        }
      }
      this.records++;
      for (const f of this.fields) this.observeValue(f, ownValue(record, f.profile.name));
    }
  }

  /** Notes `n` records predicted but not counted. */
  skip(n: number): void {
    this.skipped += n;
  }

  private observeValue(f: FieldState, raw: unknown): void {
    const p = f.profile;
    let cell;
    try {
      cell = toCell(p.type, raw, p.kind === 'number' ? p.dateOrder : undefined);
    } catch {
      f.unreadable++;
      return;
    }
    if (cell === null) {
      f.missing++;
      return;
    }
    if (f.numbers && typeof cell === 'number') f.numbers.add(cell);
    else if (f.categories) {
      const value = typeof cell === 'boolean' ? String(spell(cell, (p as CategoryFieldProfile).truthSpellings)) : String(cell);
      f.categories.add(value);
    }
  }

  private psiOf(f: FieldState): { psi: number | null; note?: string } {
    if (this.records === 0) return { psi: null, note: 'no records yet' };
    const p = f.profile;
    if (p.missingRate === null) return { psi: null, note: 'the bundle has no training profile of this field' };
    const missing = ratio(f.missing, this.records);
    if (f.numbers) {
      const live = f.numbers.binned();
      const h = (p as NumberFieldProfile).histogram;
      if (!live || !h) return { psi: null, note: 'the bundle has no histogram of this field' };
      const total = h.counts.reduce((a, b) => a + b, 0);
      const expected = [p.missingRate, ...h.counts.map((c) => (1 - p.missingRate!) * ratio(c, total))];
      const values = f.numbers.values;
      return { psi: psi(expected, [missing, ...live.map((c) => (1 - missing) * ratio(c, values))]) };
    }
    if (f.categories) {
      const cp = p as CategoryFieldProfile;
      if (cp.count === null) return { psi: null, note: 'the bundle has no training profile of this field' };
      const topSum = cp.top.reduce((a, t) => a + t.count, 0);
      const expected = [p.missingRate, ...[...cp.top.map((t) => t.count), Math.max(0, cp.count - topSum)].map((c) => (1 - p.missingRate!) * ratio(c, cp.count!))];
      const values = f.categories.values;
      return { psi: psi(expected, [missing, ...f.categories.binned().map((c) => (1 - missing) * ratio(c, values))]) };
    }
    return { psi: psi([p.missingRate, 1 - p.missingRate], [missing, 1 - missing]), note: 'free text: PSI of the missing rate only' };
  }

  /** Per field: PSI, live missing rate and unknown-category rate (what /metrics shows). */
  gauges(): FieldGauges[] {
    return this.fields.map((f) => ({
      field: f.profile.name,
      psi: this.psiOf(f).psi,
      missingRate: this.records > 0 ? ratio(f.missing, this.records) : null,
      unknownRate: f.categories && (f.profile as CategoryFieldProfile).known ? ratio(f.categories.unknown, f.categories.values) : null,
    }));
  }

  /** Live statistics beside the training profile, with PSI, for every tracked field. */
  report(): DriftReport {
    return {
      since: this.since.toISOString(),
      records: this.records,
      ...(this.skipped > 0 ? { skipped: this.skipped } : {}),
      gaps: this.profile.gaps,
      fields: this.fields.map((f): FieldDrift => {
        const p = f.profile;
        const { psi: value, note } = this.psiOf(f);
        const live: Record<string, unknown> = { count: this.records, missingRate: this.records > 0 ? round(ratio(f.missing, this.records)) : null };
        if (f.unreadable > 0) live.unreadable = f.unreadable;
        const training: Record<string, unknown> = { missingRate: round(p.missingRate) };
        const time = (x: number | null) => (x === null ? null : p.type === 'datetime' ? new Date(x).toISOString() : round(x));
        if (p.kind === 'number' && f.numbers) {
          const n = f.numbers;
          Object.assign(training, { mean: time(p.mean ?? null), std: round(p.std), min: time(p.min ?? null), max: time(p.max ?? null) });
          if (p.histogram) training.histogram = p.histogram;
          Object.assign(live, {
            mean: n.values > 0 ? time(n.sum / n.values) : null,
            min: n.values > 0 ? time(n.min) : null,
            max: n.values > 0 ? time(n.max) : null,
            quantiles: Object.fromEntries(Object.entries(n.quantiles()).map(([k, v]) => [k, time(v)])),
          });
          const binned = n.binned();
          if (binned) live.histogram = { edges: p.histogram!.edges, counts: binned };
        }
        if (p.kind === 'category' && f.categories) {
          const c = f.categories;
          training.top = p.top.map((t) => ({ value: t.value, count: t.count, share: round(ratio(t.count, p.count ?? 0)) }));
          if (p.known) training.categories = p.known.length;
          live.top = c.top().map((t) => ({ ...t, share: round(t.share) }));
          live.unknownRate = p.known ? round(ratio(c.unknown, c.values)) : null;
        }
        return { field: p.name, type: p.type, psi: round(value), ...(note ? { psiNote: note } : {}), drift: value === null ? null : driftLevel(value), training, live };
      }),
    };
  }
}
