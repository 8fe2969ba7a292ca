import { probeRequiredField } from '../../manifest/index.js';
import { runBrowserProbe } from './browser/run-browser-probe.js';
import { runCommandProbe } from './command.js';
import { runHttpProbe } from './http.js';
import { runSessionProbe } from './session.js';
import { runSqlProbe } from './sql.js';
import { type ParsedProbe, type ProbeContext, type ProbeEvent, probeEventBase } from './types.js';

export type { ProbeContext } from './types.js';

/** Runs one probe of any kind; never throws — a problem is a failed event with a message. */
export async function runProbe(probe: ParsedProbe, context: ProbeContext): Promise<ProbeEvent> {
  const field = probeRequiredField[probe.kind];
  if (!probe[field]) {
    return {
      ...probeEventBase(probe, new Date().toISOString()),
      message: `${probe.kind} probe needs "${field}"`,
    };
  }
  switch (probe.kind) {
    case 'http':
      return runHttpProbe(probe, context);
    case 'command':
      return runCommandProbe(probe, context);
    case 'sql':
      return runSqlProbe(probe, context);
    case 'session':
      return runSessionProbe(probe, context);
    case 'browser':
      return runBrowserProbe(probe, context);
  }
}

/** The event of a probe that was not run. */
export function skippedProbe(probe: ParsedProbe, reason: string): ProbeEvent {
  return { ...probeEventBase(probe, new Date().toISOString()), skipped: true, message: reason };
}
