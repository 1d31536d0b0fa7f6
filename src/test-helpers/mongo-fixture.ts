/**
 * A small collection as `mongoexport` writes it (NDJSON; even rows in relaxed mode, odd rows in
 * canonical mode), with nested objects, Extended JSON, an array and an empty object, and a target
 * (`plan`) that the nested values predict. Deterministic.
 */

/** One user of the fixture, as plain values (before Extended JSON). */
export interface FixtureUser {
  id: string;
  hours: number;
  sessions: number;
  region: string;
  age: number;
  signup: string;
  tags: string[];
  plan: string;
}

/** The users of the fixture. */
export function fixtureUsers(count = 120): FixtureUser[] {
  const regions = ['north', 'south', 'east'];
  return Array.from({ length: count }, (_, i) => {
    const hours = ((i * 37) % 50) + 0.5;
    const region = regions[i % 3] as string;
    return {
      id: (0x65a1b2c3d4e5f6071829n * 256n + BigInt(i)).toString(16).padStart(24, '0'),
      hours,
      sessions: (i * 7) % 13,
      region,
      age: 20 + ((i * 11) % 40),
      signup: new Date(Date.UTC(2023, i % 12, 1 + (i % 27), 8)).toISOString(),
      tags: i % 4 === 0 ? ['beta'] : [],
      plan: hours > 25 || (region === 'east' && hours > 15) ? 'pro' : 'free',
    };
  });
}

/** The user as a mongoexport line: relaxed (`canonical` false) or canonical Extended JSON. */
export function mongoLine(u: FixtureUser, canonical: boolean): string {
  const doc = canonical
    ? {
        _id: { $oid: u.id },
        usage: { hours: { $numberDouble: String(u.hours) }, sessions: { $numberInt: String(u.sessions) } },
        account: { region: u.region, age: { $numberLong: String(u.age) }, prefs: {} },
        meta: { signup: { $date: { $numberLong: String(Date.parse(u.signup)) } } },
        tags: u.tags,
        plan: u.plan,
      }
    : {
        _id: { $oid: u.id },
        usage: { hours: u.hours, sessions: u.sessions },
        account: { region: u.region, age: u.age, prefs: {} },
        meta: { signup: { $date: u.signup } },
        tags: u.tags,
        plan: u.plan,
      };
  return JSON.stringify(doc);
}

/** The whole export: one line per user, relaxed and canonical alternating. */
export function mongoExport(users: FixtureUser[] = fixtureUsers()): string {
  return `${users.map((u, i) => mongoLine(u, i % 2 === 1)).join('\n')}\n`;
}

/**
 * The input record of a user without its target: nested (as the export has it, relaxed Extended JSON)
 * or flat (dotted names, plain values, the array as its JSON text).
 */
export function userRecord(u: FixtureUser, form: 'nested' | 'flat'): Record<string, unknown> {
  if (form === 'nested') {
    return {
      _id: { $oid: u.id },
      usage: { hours: u.hours, sessions: u.sessions },
      account: { region: u.region, age: u.age },
      meta: { signup: { $date: u.signup } },
      tags: u.tags,
    };
  }
  return {
    _id: u.id,
    'usage.hours': u.hours,
    'usage.sessions': u.sessions,
    'account.region': u.region,
    'account.age': u.age,
    'meta.signup': u.signup,
    tags: JSON.stringify(u.tags),
  };
}
