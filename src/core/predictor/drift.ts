import { flattenRecord, hasNestedValue } from '../records/flatten.js';
import { ownValue } from '../records/dict.js';
import { spell } from '../spellings.js';
import { type ColumnType, toCell } from '../values.js';
import { type CategoryFieldProfile, type FieldProfile, type NumberFieldProfile, type TrainingProfile, ratio } from './drift-profile.js';
import { driftLevel, psi } from './drift-psi.js';
import { CategoryStats, NumberStats } from './drift-stats.js';

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
