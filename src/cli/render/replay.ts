import type { ReplayEvent, ReplaySessionResult } from '../../services/replay.js';

const rule = '━'.repeat(53);

/** Header of `replay`, in the walkthrough's style. */
export function renderReplayHeader(): string[] {
  return [
    '╔═══════════════════════════════════════════════════╗',
    '║ Session Replay Tool                               ║',
    '║ Re-execute recorded queries                       ║',
    '╚═══════════════════════════════════════════════════╝',
  ];
}

/** One replay progress event as console lines. */
export function renderReplayEvent(event: ReplayEvent): string[] {
  switch (event.kind) {
    case 'loaded':
      return [`✅ Loaded ${event.events} events (${event.queries} queries) from ${event.file}`];
    case 'connected':
      return ['✅ Connected to database'];
    case 'query':
      return [`📝 Query #${event.queryNumber} @ ${event.at}`, rule, ...event.sql.split('\n'), rule];
    case 'verdict': {
      const { query } = event;
      const executed =
        query.rowCount !== undefined ? [`✓ Query executed: ${query.rowCount} rows returned`] : [];
      switch (query.verdict) {
        case 'matched':
          return [...executed, `✓ Results match recorded data (${query.rowCount ?? 0} rows)`];
        case 'error-matched':
          return ['✓ Failed with the recorded error, as recorded'];
        case 'not-compared':
          return query.unreproducible
            ? [`✗ Not reproduced: ${query.note ?? ''}`]
            : [...executed, `• Not compared: ${query.note ?? ''}`];
        case 'mismatched':
          return [...executed, '✗ Results differ from the recording:', ...indent(query.diff)];
        case 'new-error':
          return ['✗ New error:', ...indent(query.diff)];
      }
    }
  }
}

/** The closing summary. */
export function renderReplaySummary(result: ReplaySessionResult): string[] {
  return [
    rule,
    '📊 Replay Summary:',
    `Queries executed: ${result.queriesExecuted}`,
    `Errors: ${result.errors}`,
    `Results matched: ${result.matched}`,
    `Results mismatched: ${result.mismatched}`,
    ...(result.newErrors > 0 ? [`New errors: ${result.newErrors}`] : []),
    ...(result.unreproducible > 0 ? [`Not reproducible from the recording: ${result.unreproducible}`] : []),
    rule,
    result.ok ? '✅ Session replay completed successfully!' : '❌ Session replay found differences.',
  ];
}

function indent(text: string | undefined): string[] {
  return (text ?? '').split('\n').map((line) => `  ${line}`);
}
