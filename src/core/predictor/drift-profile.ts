import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from '../bundle/manifest.js';
import type { ColumnProfile } from '../data/profile.js';
import { ownValue } from '../records/dict.js';
import { messageOf } from '../errors.js';
import type { FittedPipeline } from '../features/types.js';
import type { Histogram } from '../models/curves.js';
import { type InputProfile, REPORT_FILES, type ReportDetails, capText } from '../report/data.js';
import type { TruthSpellings } from '../spellings.js';
import type { ColumnType, DateOrder } from '../values.js';

/** The training side of input drift: what a bundle's featurizer and report.json say of each input field (see drift.ts). */
/** Fields tracked per model version (the first ones of the featurizer's inputs); more are not tracked. */
const DRIFT_MAX_FIELDS = 1000;

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

export function ratio(part: number, whole: number): number {
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
