import { expect } from 'chai';
import type { AliasEvent } from './stores/types.js';
import { previousTarget } from './release.js';

const ev = (alias: string, from: string | null, to: string | null, action = 'promote'): AliasEvent => ({ at: '2026-01-01T00:00:00.000Z', by: 'ci', alias, from, to, action });

describe('previousTarget (bundles rollback)', () => {
  it('is the target before the change that set the current one', () => {
    const events = [ev('production', null, '1.0.0'), ev('staging', null, '1.0.1'), ev('production', '1.0.0', '1.0.1')];
    expect(previousTarget(events, 'production', '1.0.1').to).to.equal('1.0.0');
    expect(previousTarget(events, 'staging', '1.0.1').to).to.equal(null);
  });

  it('rollbacks undo: a second rollback goes one step further back, never forward again', () => {
    const events = [ev('production', null, '1.0.0'), ev('production', '1.0.0', '1.0.1'), ev('production', '1.0.1', '1.0.2'), ev('production', '1.0.2', '1.0.1', 'rollback')];
    expect(previousTarget(events, 'production', '1.0.1').to).to.equal('1.0.0');
    events.push(ev('production', '1.0.1', '1.0.0', 'rollback'));
    expect(previousTarget(events, 'production', '1.0.0').to).to.equal(null);
    // a promotion after a rollback is a new step back to the rolled-back-to version
    events.push(ev('production', '1.0.0', '1.0.3'));
    expect(previousTarget(events, 'production', '1.0.3').to).to.equal('1.0.0');
  });

  it('a history that does not end at the current target (aliases.json edited by hand) falls back to the last event that set it', () => {
    const events = [ev('production', null, '1.0.0'), ev('production', '1.0.0', '1.0.1'), ev('production', '1.0.1', '1.0.2')];
    expect(previousTarget(events, 'production', '1.0.1').to).to.equal('1.0.0');
    expect(previousTarget(events, 'production', '9.9.9')).to.deep.equal({ to: null, event: undefined });
  });
});
