/**
 * Calendar arithmetic for the date kinds, without allocating per call: civil date fields of an
 * instant (Howard Hinnant's days-from-civil algorithm) and the UTC offset of an IANA time zone, learnt
 * from `Intl.DateTimeFormat` once per zone and stretch of time and then cached.
 */

export const DAY_MS = 86_400_000;
const CUMULATIVE_DAYS = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

/** Indices into {@link FIELDS}. */
export const F = { year: 0, month: 1, day: 2, dayofyear: 3, dayofweek: 4, hour: 5, minute: 6, epochdays: 7, msOfDay: 8, yearDays: 9 } as const;

/**
 * The fields of the last {@link civil} call: year, month (1–12), day (1–31), day of year (1–366),
 * day of week (0 = Monday … 6 = Sunday, as pandas), hour, minute, days since 1970-01-01, milliseconds
 * into the day, days in the year. Shared scratch: read it right after the call.
 */
export const FIELDS = new Float64Array(10);

/** Fills {@link FIELDS} for a wall-clock time given as milliseconds since 1970-01-01T00:00 (UTC, or local time shifted by its offset). */
export function civil(t: number): void {
  const days = Math.floor(t / DAY_MS);
  const msOfDay = t - days * DAY_MS;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  FIELDS[F.year] = year;
  FIELDS[F.month] = month;
  FIELDS[F.day] = day;
  FIELDS[F.dayofyear] = (CUMULATIVE_DAYS[month - 1] as number) + day + (leap && month > 2 ? 1 : 0);
  FIELDS[F.dayofweek] = (((days + 3) % 7) + 7) % 7;
  FIELDS[F.hour] = Math.floor(msOfDay / 3_600_000);
  FIELDS[F.minute] = Math.floor((msOfDay % 3_600_000) / 60_000);
  FIELDS[F.epochdays] = days;
  FIELDS[F.msOfDay] = msOfDay;
  FIELDS[F.yearDays] = leap ? 366 : 365;
}

// Offsets are cached per zone and per stretch of 2^31 ms (about 24.9 days): a table of
// [start, offset, start, offset, …] (start in UTC ms, ascending; the first start is the stretch's).
const STRETCH_MS = 2 ** 31;
const SAMPLE_MS = DAY_MS / 4;

class ZoneOffsets {
  private readonly format: Intl.DateTimeFormat;
  private readonly stretches = new Map<number, Float64Array>();

  constructor(zone: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** The zone's offset from UTC at instant t, in ms (local = t + offset), straight from Intl (allocates). */
  private exact(t: number): number {
    const s = Math.floor(t / 1000) * 1000;
    let year = 0;
    let month = 1;
    let day = 1;
    let hour = 0;
    let minute = 0;
    let second = 0;
    let bc = false;
    for (const p of this.format.formatToParts(s)) {
      switch (p.type) {
        case 'year':
          year = Number(p.value);
          break;
        case 'month':
          month = Number(p.value);
          break;
        case 'day':
          day = Number(p.value);
          break;
        case 'hour':
          hour = Number(p.value);
          break;
        case 'minute':
          minute = Number(p.value);
          break;
        case 'second':
          second = Number(p.value);
          break;
        case 'era':
          bc = p.value.toUpperCase().startsWith('B');
          break;
      }
    }
    const d = new Date(0);
    d.setUTCFullYear(bc ? 1 - year : year, month - 1, day);
    d.setUTCHours(hour, minute, second, 0);
    return d.getTime() - s;
  }

  private build(stretch: number): Float64Array {
    const start = stretch * STRETCH_MS;
    const end = start + STRETCH_MS;
    const table: number[] = [start, this.exact(start)];
    let prevT = start;
    let prev = table[1] as number;
    for (let t = start + SAMPLE_MS; ; t += SAMPLE_MS) {
      const at = Math.min(t, end);
      const off = this.exact(at);
      if (off !== prev) {
        // The change is in (prevT, at]: find its first second by bisection.
        let lo = Math.floor(prevT / 1000);
        let hi = Math.ceil(at / 1000);
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2);
          if (this.exact(mid * 1000) === prev) lo = mid;
          else hi = mid;
        }
        if (hi * 1000 < end) table.push(hi * 1000, this.exact(hi * 1000));
        prev = off;
      }
      prevT = at;
      if (at >= end) break;
    }
    return Float64Array.from(table);
  }

  /** The offset at instant t (ms): from the cached table of its stretch (built on first use). */
  offset(t: number): number {
    const stretch = Math.floor(t / STRETCH_MS);
    let table = this.stretches.get(stretch);
    if (table === undefined) {
      table = this.build(stretch);
      this.stretches.set(stretch, table);
    }
    let off = table[1] as number;
    for (let i = 2; i < table.length && (table[i] as number) <= t; i += 2) off = table[i + 1] as number;
    return off;
  }
}

const zones = new Map<string, ZoneOffsets>();

/**
 * Local wall-clock milliseconds of instant `t` in an IANA zone (`t + offset`); `UTC` is `t` itself.
 * The zone must have been checked (params' `timezone`).
 */
export function localTime(t: number, zone: string): number {
  if (zone === 'UTC') return t;
  let z = zones.get(zone);
  if (z === undefined) {
    z = new ZoneOffsets(zone);
    zones.set(zone, z);
  }
  return t + z.offset(t);
}
