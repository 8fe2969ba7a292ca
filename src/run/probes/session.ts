import { isAbsolute, resolve } from 'node:path';

import { replaySession } from '../../session/replay-session.js';
import {
  type ParsedProbe,
  type ProbeContext,
  type ProbeEvent,
  probeEventBase,
  settleProbe,
} from './types.js';

/**
 * A session probe: replays a recorded session against the replay database — always inside a transaction
 * that is rolled back — and succeeds when every compared result matches and no new error appears.
 */
export async function runSessionProbe(probe: ParsedProbe, context: ProbeContext): Promise<ProbeEvent> {
  const file = isAbsolute(probe.session!)
    ? probe.session!
    : resolve(context.manifest.repoPath, probe.session!);
  const event: ProbeEvent = { ...probeEventBase(probe, new Date().toISOString()), session: file };
  return settleProbe(event, performance.now(), async () => {
    if (!context.databaseUrl) throw new Error('no replay database URL');
    // The timeout and Ctrl-C both stop the replay itself (its statement cancelled, its transaction
    // rolled back), not only the wait for it.
    const timeout = AbortSignal.timeout(probe.timeoutSeconds * 1000);
    const signal = context.signal ? AbortSignal.any([context.signal, timeout]) : timeout;
    const result = await replaySession({
      file,
      databaseUrl: context.databaseUrl,
      rollback: true,
      signal,
      ...(probe.ignoreColumns ? { ignoreColumns: probe.ignoreColumns } : {}),
      ...(probe.unordered !== undefined ? { unordered: probe.unordered } : {}),
    }).catch((error: unknown) => {
      if (context.signal?.aborted) throw new Error('interrupted');
      if (timeout.aborted) throw new Error(`no result within ${probe.timeoutSeconds}s`);
      throw error;
    });
    Object.assign(event, {
      queriesExecuted: result.queriesExecuted,
      matched: result.matched,
      mismatched: result.mismatched,
      errors: result.errors,
      newErrors: result.newErrors,
    });
    if (!result.ok || result.mismatched > 0 || result.newErrors > 0) {
      return `${result.mismatched} mismatched, ${result.newErrors} new error(s) in ${result.queriesExecuted} queries`;
    }
    return undefined;
  });
}
