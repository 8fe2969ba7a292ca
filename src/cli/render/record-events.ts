import type { RecordingProxy } from '../../services/record.js';
import type { ProxyEvent } from '../../session/proxy-session.js';

/**
 * `record --json` events, one JSON object per line on stderr (stdout keeps the single result document
 * written when the proxy stops): `ready` once listening, then logins that failed and sessions that
 * ended. Only fields that are safe to show: the target is its redacted URL.
 */
export function readyEvent(
  proxy: RecordingProxy,
  target: string,
  sessionsDir: string,
): Record<string, unknown> {
  return {
    event: 'ready',
    address: proxy.address,
    target,
    targetCheck: proxy.target,
    clientTls: proxy.clientTls,
    warnings: proxy.warnings,
    sessionsDir,
    recovered: proxy.recovered,
  };
}

export function jsonProxyEvent(event: ProxyEvent): Record<string, unknown> | undefined {
  switch (event.kind) {
    case 'rejected':
      return {
        event: event.upstream ? 'target-login-failed' : 'login-rejected',
        sessionId: event.sessionId,
        ...(event.upstream ? { failure: event.upstream } : {}),
        reason: event.reason,
      };
    case 'upstream-connected':
      return { event: 'session-started', sessionId: event.sessionId, tls: event.tls };
    case 'closed':
      return {
        event: 'session-closed',
        sessionId: event.sessionId,
        file: event.file,
        queries: event.queries,
      };
    case 'protocol-error':
      return { event: 'protocol-error', sessionId: event.sessionId, message: event.message };
    default:
      return undefined;
  }
}
