/**
 * What the two date kinds (datetime-parts, datetime-cyclic) share: their parameters, their fitted
 * state, reading a cell into the calendar fields, and the tail of their summary. They differ only in
 * the parts they offer and in what they write for each part.
 */
import type { Column } from '../table.js';
import type { Cell } from '../values.js';
import { civil, localTime } from './calendar.js';
import { countMissing } from './impute.js';
import { median } from './numeric.js';
import { param } from './params.js';

/** Parameters of a date kind. */
export type DateKindParams<P extends string> = {
  /** Parts to write, in order. */
  parts: P[];
  /** Missing indicator: always, never, or (`auto`) when the training data had missing dates. */
  indicator: boolean | 'auto';
  /** IANA time zone the parts are computed in (default `UTC`), e.g. `Europe/Paris`; checked when the config is read. */
  timezone: string;
};

/**
 * Fitted state of a date kind: the parts to write, the fill for a missing date (the median instant
 * at fit), the indicator flag, and the time zone (absent for UTC, as in states written before it
 * existed). The state holds everything `transform` needs.
 */
export type DateKindState<P extends string> = { parts: P[]; fill: number; indicator: boolean; timezone?: string };

/** Reads `parts` (from `allowed`, default `defaults`), `indicator` and `timezone`; nothing else. */
export function dateKindParams<P extends string>(raw: Record<string, unknown>, allowed: readonly P[], defaults: readonly P[]): DateKindParams<P> {
  param.only(raw, ['parts', 'indicator', 'timezone']);
  return {
    parts: param.listOf(raw, 'parts', allowed, defaults),
    indicator: param.autoBoolean(raw, 'indicator'),
    timezone: param.timezone(raw, 'timezone', 'UTC'),
  };
}

/** Fits a date kind: the median instant as the fill, the indicator when asked (or when `auto` and dates are missing). */
export function fitDateKind<P extends string>(column: Column, params: DateKindParams<P>): DateKindState<P> {
  const indicator = params.indicator === 'auto' ? countMissing(column) > 0 : params.indicator;
  const state: DateKindState<P> = { parts: [...params.parts], fill: median(column.values as Float64Array), indicator };
  if (params.timezone !== 'UTC') state.timezone = params.timezone;
  return state;
}

/** Sets the calendar fields (`FIELDS`) from a cell, the fill standing in for a missing one; true when it was missing. */
export function civilOfCell(state: DateKindState<string>, cell: Cell): boolean {
  const missing = cell === null;
  const t = missing ? state.fill : (cell as number);
  civil(state.timezone === undefined ? t : localTime(t, state.timezone));
  return missing;
}

/** The end of a date kind's summary: ` (UTC); missing → 2024-03-05 (median) + missing indicator`. */
export function dateKindSummary(state: DateKindState<string>): string {
  return ` (${state.timezone ?? 'UTC'}); missing → ${new Date(state.fill).toISOString().slice(0, 10)} (median)${state.indicator ? ' + missing indicator' : ''}`;
}
