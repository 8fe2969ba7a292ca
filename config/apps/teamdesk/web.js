// teamdesk's web page, for replay-env's demo and docs: the signed-in user's tickets, read from the replay
// database ($TEAMDESK_REPLAY_DATABASE_URL, which `run` sets). The manifest starts it as a background
// command and a `browser` probe looks at it. Port: $TEAMDESK_WEB_PORT (default 4780). User:
// $TEAMDESK_TENANT / $TEAMDESK_USER (default the manifest's localSubject, dev-tenant / dev-user).
import { createServer } from 'node:http';

import pg from 'pg';

const port = Number(process.env.TEAMDESK_WEB_PORT ?? 4780);
const tenant = process.env.TEAMDESK_TENANT ?? 'dev-tenant';
const user = process.env.TEAMDESK_USER ?? 'dev-user';
const pool = new pg.Pool({ connectionString: process.env.TEAMDESK_REPLAY_DATABASE_URL, max: 2 });

const escape = (text) =>
  String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );

async function dashboard() {
  const me = await pool.query('select display_name from users where tenant_id = $1 and user_id = $2', [
    tenant,
    user,
  ]);
  const tickets = await pool.query(
    `select subject, status from tickets where tenant_id = $1 and requester_user_id = $2 order by created_at`,
    [tenant, user],
  );
  const name = me.rows[0]?.display_name ?? user;
  const items = tickets.rows.map(
    (t) => `<li><span class="status">${escape(t.status)}</span> ${escape(t.subject)}</li>`,
  );
  return (
    '<!doctype html><html><head><meta charset="utf-8"><title>teamdesk</title><style>' +
    'body{font-family:sans-serif;margin:32px;color:#222}h1{font-size:22px}li{margin:6px 0}' +
    '.status{display:inline-block;min-width:70px;font-size:12px;color:#555;text-transform:uppercase}</style></head>' +
    `<body><h1>teamdesk · ${escape(name)}</h1><p id="summary">Loading…</p><ul id="tickets">${items.join('')}</ul>` +
    // Filled in by the browser, as a real front end would: an http probe would not see it.
    '<script>fetch("/api/summary").then((r) => r.json()).then((s) => {' +
    'document.getElementById("summary").textContent = s.open + " open of " + s.total + " tickets";' +
    '});</script></body></html>'
  );
}

async function summary() {
  const result = await pool.query(
    `select count(*) filter (where status in ('open', 'pending'))::int as open, count(*)::int as total
     from tickets where tenant_id = $1 and requester_user_id = $2`,
    [tenant, user],
  );
  return JSON.stringify(result.rows[0]);
}

const server = createServer(async (request, response) => {
  try {
    if (request.url === '/health') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    } else if (request.url === '/api/summary') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(await summary());
    } else if (request.url === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(await dashboard());
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  } catch (error) {
    console.error(error.message);
    response.writeHead(500, { 'content-type': 'text/plain' }).end('database error');
  }
});
server.listen(port, '127.0.0.1', () => console.log(`teamdesk web on http://127.0.0.1:${port}/`));
const stop = () => server.close(() => pool.end().then(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
