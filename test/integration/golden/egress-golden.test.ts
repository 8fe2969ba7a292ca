import { describe, expect } from 'vitest';

import { checkLoop } from '../../../src/services/check.js';
import { dbTest } from '../../setup/database.js';
import { shippedLoopOn } from './helpers.js';

describe('golden comparison of outside requests', () => {
  dbTest('a replay that suddenly calls a new provider differs from the shipped golden', async ({ db }) => {
    const { manifest, loop } = await shippedLoopOn(db);
    // The fix under test makes notify-customer also text the customer, through a provider no stub answers.
    const notify = manifest.commands.find((command) => command.name === 'notify-customer')!;
    notify.run = `${notify.run} && node -e "fetch('https://sms.provider.test/v1/messages?to=555', {method: 'POST'}).then((r) => console.log('sms', r.status))"`;
    const result = await checkLoop({ manifest, loop, dbUrl: db.url.connectionString() });
    const newCall = {
      where: 'egress of command notify-customer',
      path: 'egress["command notify-customer"]["denied POST sms.provider.test:443/v1/messages"]',
      actual: 1,
    };
    const [first, second] = result.scenarios;
    expect(first).toMatchObject({ id: 'cross-user-comment-thread', verdict: 'block' });
    // The denied call also turns its gate from continue to warn (egress_denied > 0).
    expect(first!.diffs).toEqual([
      newCall,
      { where: 'gate', path: 'gate', golden: 'continue', actual: 'warn' },
    ]);
    expect(second).toMatchObject({ id: 'local-identity-replay', verdict: 'block', diffs: [newCall] });
    expect(result.exitCode).toBe(11);
  });
});
