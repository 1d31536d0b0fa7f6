import { expect } from 'chai';
import { ConfigError } from '../errors.js';
import { Rng } from '../models/rng.js';
import { fitStep, run } from '../../test-helpers/features.js';

const D = (s: string) => Date.parse(s);
const ALL = ['year', 'month', 'day', 'dayofyear', 'dayofweek', 'hour', 'minute', 'epochdays'];

describe('datetime-parts in a time zone', () => {
  it('computes the parts on the zone\'s wall clock, across daylight saving time', () => {
    const t = fitStep('datetime-parts', 'datetime', [D('2024-01-01')], { parts: ALL, timezone: 'Europe/Paris', indicator: false });
    // 2024-03-31 01:00 UTC: Paris moves from +01:00 to +02:00
    expect(run(t, '2024-03-31T00:30:00Z')).to.deep.equal([2024, 3, 31, 91, 6, 1, 30, 19813]);
    expect(run(t, '2024-03-31T01:30:00Z')).to.deep.equal([2024, 3, 31, 91, 6, 3, 30, 19813]);
    // New Year's Eve 23:30 UTC is already Monday 2024-01-01 00:30 in Paris
    expect(run(t, '2023-12-31T23:30:00Z')).to.deep.equal([2024, 1, 1, 1, 0, 0, 30, 19723]);
    expect(t.describe()[0]).to.match(/\(Europe\/Paris\)/);
  });

  it('agrees with Intl.DateTimeFormat on every part, in zones with half-hour and 45-minute offsets', () => {
    const rng = new Rng(2024);
    for (const zone of ['America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham']) {
      const t = fitStep('datetime-parts', 'datetime', [0], { parts: ['year', 'month', 'day', 'dayofweek', 'hour', 'minute'], timezone: zone });
      const f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short' });
      const days = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
      for (let i = 0; i < 150; i++) {
        const ms = Math.floor(Date.UTC(1950, 0, 1) + rng.next() * (Date.UTC(2060, 0, 1) - Date.UTC(1950, 0, 1)));
        const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
        const expected = [Number(p.year), Number(p.month), Number(p.day), days.indexOf(p.weekday as string), Number(p.hour), Number(p.minute)];
        expect(run(t, ms), `${zone} ${new Date(ms).toISOString()}`).to.deep.equal(expected);
      }
    }
  });

  it('keeps UTC the default, with the state of before (no timezone in it)', () => {
    const t = fitStep('datetime-parts', 'datetime', [D('2024-01-01')]);
    expect(t.pipeline.steps[0]!.state).to.deep.equal({ parts: ['year', 'month', 'dayofyear', 'dayofweek'], fill: D('2024-01-01'), indicator: false });
  });

  it('refuses an unknown time zone when parameters are read, canonicalizes a known one', () => {
    expect(() => fitStep('datetime-parts', 'datetime', [0], { timezone: 'Mars/Olympus' })).to.throw(
      ConfigError,
      'features.columns.c.timezone: must be an IANA time zone like "Europe/Paris", "America/New_York" or "UTC", got "Mars/Olympus"',
    );
    expect(fitStep('datetime-parts', 'datetime', [0], { timezone: 'europe/paris' }).pipeline.steps[0]!.params.timezone).to.equal('Europe/Paris');
  });
});
