import Table from 'cli-table3';

import type { ProxyEvent } from '../../session/proxy-session.js';

const rule = '━'.repeat(53);
const maxRows = 20;
const maxCell = 40;

/** The startup banner of `record`, in the walkthrough's style. Never shows a real password. */
export function renderProxyBanner(info: {
  address: { host: string; port: number };
  pseudoUsers: string[];
  target: string;
  database: string;
  sessionsDir: string;
  recovered: string[];
  clientTls?: { source: 'given' | 'self-signed'; fingerprint256: string } | undefined;
  targetCheck?:
    { ok: true; tls: string } | { ok: false; failure: string; message: string; explanation: string };
  warnings?: string[];
}): string[] {
  const lines = [
    '✅ Proxy Server Started!',
    `🎧 Listening on ${info.address.host}:${info.address.port}`,
    ...(info.warnings ?? []).map((warning) => `⚠️  WARNING: ${warning}`),
    info.clientTls
      ? `🔒 Client TLS: ${info.clientTls.source === 'self-signed' ? 'self-signed certificate for this run' : 'your certificate'}, SHA-256 fingerprint ${info.clientTls.fingerprint256}`
      : '🔓 Client TLS: off (clients connect in plain text)',
    '📋 Available Pseudo Credentials:',
    rule,
  ];
  for (const user of info.pseudoUsers) {
    lines.push(`Pseudo User: ${user}`, 'Password: (the one given with --pseudo-user)');
  }
  lines.push(`Database: ${info.database}`, `→ Maps to: ${info.target}`);
  if (info.targetCheck?.ok) lines.push(`🔐 Target connection: ${info.targetCheck.tls}`);
  else if (info.targetCheck)
    lines.push(
      `⚠️  WARNING: cannot log in to the target (${info.targetCheck.failure}): ${info.targetCheck.explanation} — ${info.targetCheck.message}`,
    );
  lines.push('🔌 Connect using:');
  lines.push(
    `psql -h ${info.address.host} -p ${info.address.port} -U ${info.pseudoUsers[0] ?? 'pseudo_user'} -d ${info.database}`,
  );
  lines.push(`💾 Sessions are written to ${info.sessionsDir}`);
  for (const file of info.recovered) lines.push(`♻️  Recovered a session left by a stopped proxy: ${file}`);
  lines.push('🔍 Monitoring all queries and responses...');
  return lines;
}

/** One proxy event as console lines, each prefixed with `[session_id]`. */
export function renderProxyEvent(event: ProxyEvent): string[] {
  return body(event).map((line) => `[${event.sessionId}] ${line}`);
}

function body(event: ProxyEvent): string[] {
  switch (event.kind) {
    case 'connection':
      return [`🔗 New connection from ${event.remote}`];
    case 'login':
      return [`👤 Pseudo user attempting connection: ${event.pseudoUser} (database: ${event.database})`];
    case 'rejected':
      return [
        `⛔ Connection rejected${event.pseudoUser ? ` for ${event.pseudoUser}` : ''}: ${
          event.upstream ? `${event.upstream}: ` : ''
        }${event.reason}`,
      ];
    case 'client-tls':
      return [`🔒 Client connected with ${event.protocol}`];
    case 'mapped':
      return [`✅ Credentials mapped: ${event.pseudoUser} → ${event.realUser} (${event.target})`];
    case 'upstream-connected':
      return [`🔌 Connected to real database (${event.tls})`];
    case 'recording':
      return [`📝 Session recording started: ${event.file}`];
    case 'query': {
      const params =
        event.query.params && event.query.params.length > 0
          ? [`params: ${truncate(JSON.stringify(event.query.params), 200)}`]
          : [];
      return [
        `📝 Query #${event.query.queryNumber} @ ${clock(event.at)}`,
        rule,
        ...event.query.sql.split('\n'),
        ...params,
        rule,
      ];
    }
    case 'result':
      return renderResult(event.result);
    case 'cancel':
      return [
        event.forwarded
          ? '🛑 Cancel request forwarded to the target'
          : '🛑 Cancel request for an unknown session ignored',
      ];
    case 'protocol-error':
      return [`⚠️  ${event.message}`];
    case 'closed':
      return [`🔌 Connection closed${event.file ? ` (${event.queries} queries → ${event.file})` : ''}`];
  }
}

function renderResult(result: Extract<ProxyEvent, { kind: 'result' }>['result']): string[] {
  if (result.error) return [`❌ ${result.error.severity} ${result.error.code}: ${result.error.message}`];
  const lines: string[] = [];
  if (result.columns.length === 0) {
    lines.push('→ No result set');
  } else {
    const table = new Table({
      head: result.columns.map((column) => truncate(column, maxCell)),
      style: { head: [], border: [] },
    });
    for (const row of result.rows.slice(0, maxRows)) {
      table.push(row.map((cell) => (cell === null ? 'NULL' : truncate(cell.replace(/\s+/g, ' '), maxCell))));
    }
    lines.push('📊 Results:', ...table.toString().split('\n'));
    if (result.rows.length > maxRows) lines.push(`… ${result.rows.length - maxRows} more row(s) not shown`);
    lines.push(`${result.rowCount} row(s)`);
  }
  lines.push(`✓ ${result.commandTag ?? '(no command tag)'}`);
  return lines;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function clock(at: Date): string {
  const pad = (value: number, width = 2): string => String(value).padStart(width, '0');
  return `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.${pad(at.getMilliseconds(), 3)}`;
}
