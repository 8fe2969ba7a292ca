import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect } from 'vitest';

import { hashValue } from '../../../src/redaction/index.js';
import { exportCapsule } from '../../../src/services/export.js';
import { dbTest } from '../../setup/database.js';
import { capsuleRowTexts, loadTeamdesk, readCapsuleJson } from './helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'export-teamdesk-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const subject = { tenant_id: 'acme', user_id: 'ada' };

/** What each table's query selects, written independently of the manifest: the expected rows. */
const expectedRowsSql: Record<string, string> = {
  tenants: `select to_jsonb(x)::text as row from tenants x where tenant_id = 'acme' order by tenant_id`,
  users: `select to_jsonb(x)::text as row from users x where tenant_id = 'acme' and user_id in ('ada','bob','cy','dee','eve') order by tenant_id, user_id`,
  tickets: `select to_jsonb(x)::text as row from tickets x where id::text in
    ('00000000-0000-4000-8000-000000000001','00000000-0000-4000-8000-000000000002','00000000-0000-4000-8000-000000000003') order by id`,
  comments: `select to_jsonb(x)::text as row from comments x where id in (1,2,3,4) order by id`,
  reactions: `select to_jsonb(x)::text as row from reactions x order by comment_id, user_id, emoji`,
  audit_events: `select to_jsonb(x)::text as row from audit_events x where actor_user_id <> 'zed' order by id`,
};

describe('teamdesk sample app', () => {
  dbTest('users-they-touched: the graph is ada plus bob, cy, dee, eve with reasons', async ({ db }) => {
    const manifest = await loadTeamdesk(db);
    const out = join(dir, 'ada.json');
    const result = await exportCapsule({
      manifest,
      subject,
      databaseUrl: db.url,
      out,
      sinceDays: 3650,
      redaction: 'safe',
    });
    const capsule = await readCapsuleJson(out);
    expect(capsule.graph).toEqual([
      { tenant_id: 'acme', user_id: 'ada', reasons: ['subject'] },
      {
        tenant_id: 'acme',
        user_id: 'bob',
        reasons: ['assignee_of_shared_ticket', 'commented_on_shared_ticket'],
      },
      { tenant_id: 'acme', user_id: 'cy', reasons: ['commented_on_shared_ticket'] },
      { tenant_id: 'acme', user_id: 'dee', reasons: ['reacted_on_shared_ticket'] },
      {
        tenant_id: 'acme',
        user_id: 'eve',
        reasons: ['reacted_on_shared_ticket', 'requester_of_shared_ticket'],
      },
    ]);
    expect(result.graph).toEqual({
      size: 5,
      reasons: {
        subject: 1,
        assignee_of_shared_ticket: 1,
        commented_on_shared_ticket: 2,
        reacted_on_shared_ticket: 2,
        requester_of_shared_ticket: 1,
      },
    });
    expect(result.rowCounts).toEqual({
      tenants: 1,
      users: 5,
      tickets: 3,
      comments: 4,
      reactions: 3,
      audit_events: 3,
    });
    expect(Object.keys(capsule.tables)).toEqual(manifest.postgres.tableOrder);
  });

  dbTest('arrays/bytea/jsonb/unicode: a raw export has exactly the rows to_jsonb gives', async ({ db }) => {
    const manifest = await loadTeamdesk(db);
    const out = join(dir, 'raw.json');
    const result = await exportCapsule({
      manifest,
      subject,
      databaseUrl: db.url,
      out,
      sinceDays: 3650,
      redaction: 'raw',
    });
    const rows = await capsuleRowTexts(out);
    const capsule = await readCapsuleJson(out);
    for (const [table, sql] of Object.entries(expectedRowsSql)) {
      const expected = (await db.query<{ row: string }>(sql)).map((row) => row.row);
      // Byte-identical: no re-serialization happens on the raw path.
      expect(rows[table], table).toEqual(expected);
      const hash = createHash('sha256');
      for (const row of expected) hash.update(`${row}\n`);
      expect(capsule.integrity.tables[table]).toEqual({ rows: expected.length, sha256: hash.digest('hex') });
    }
    const ada = capsule.tables.users[0];
    expect(ada).toMatchObject({
      avatar: '\\x89504e470d0a1a0a',
      roles: ['admin', 'agent'],
      display_name: 'Ada "the first" Lovelace',
      last_login_at: '2026-11-01T08:30:00',
      created_at: '2024-01-10T09:05:00+00:00',
    });
    expect(capsule.tables.users[1].display_name).toBe("Bob O'Neil\tSupport");
    expect(capsule.tables.users[2].profile.note).toBe('line1\nline2 \\ backslash');
    expect(capsule.tables.users[2].display_name).toBe('Cy 🚀 Ng');
    expect(capsule.tables.tickets[0]).toMatchObject({
      id: '00000000-0000-4000-8000-000000000001',
      tags: ['billing', 'needs, triage'],
      amount: 1234.5,
      status: 'open',
      metadata: { attachments: [{ name: 'invoice.pdf', bytes: 48213 }] },
    });
    expect(capsule.tables.audit_events[1].ip).toBe('2001:db8::1');
    expect(result.redaction).toBe('raw');
    expect(capsule.redaction).toBe('raw');
  });

  dbTest(
    'safe redaction hashes emails and tokens, nulls nested phones, empties audit secrets',
    async ({ db }) => {
      const manifest = await loadTeamdesk(db);
      const out = join(dir, 'safe.json');
      await exportCapsule({
        manifest,
        subject,
        databaseUrl: db.url,
        out,
        sinceDays: 3650,
        redaction: 'safe',
      });
      const capsule = await readCapsuleJson(out);
      const [ada, bob, cy] = capsule.tables.users;
      expect(ada.email).toBe(hashValue('ada@acme.example', 'user-'));
      expect(ada.email).toMatch(/^user-[0-9a-f]{12}$/);
      expect(ada.api_token).toBe(hashValue('sk-live-ada-4f9a8b7c6d5e4f3a2b1c', 'redacted-token-'));
      expect(cy.api_token).toBeNull();
      expect(ada.profile).toEqual({ phone: null, prefs: { theme: 'dark', phone: null } });
      expect(bob.display_name).toBe("Bob O'Neil\tSupport");
      const [login, rotate] = capsule.tables.audit_events;
      expect(login.payload).toEqual({ method: 'password', password: '' });
      expect(rotate.payload).toEqual({ token: '', by: 'ada' });
      // The table-scoped email rule does not touch other tables; nothing secret survives anywhere.
      const text = JSON.stringify(capsule);
      for (const secret of ['ada@acme.example', 'sk-live-ada', 'hunter2', '+44 20 7946', 'ghp_', 'xoxb-']) {
        expect(text).not.toContain(secret);
      }
      // Untouched tables are byte-identical to to_jsonb.
      const rows = await capsuleRowTexts(out);
      const tickets = (await db.query<{ row: string }>(expectedRowsSql.tickets!)).map((row) => row.row);
      expect(rows.tickets).toEqual(tickets);
    },
  );

  dbTest('--since-days narrows tables whose where uses params.since_at', async ({ db }) => {
    const manifest = await loadTeamdesk(db);
    const out = join(dir, 'recent.json');
    const [row] = await db.query<{ days: number }>(
      `select (extract(day from now() - '2026-10-02 00:00:00+00'::timestamptz))::int as days`,
    );
    const days = row!.days;
    // Window starts 2026-10-02: only ada's token rotation (2026-10-03) is recent enough.
    const result = await exportCapsule({
      manifest,
      subject,
      databaseUrl: db.url,
      out,
      sinceDays: days,
      redaction: 'raw',
    });
    expect(result.rowCounts.audit_events).toBe(1);
    const capsule = await readCapsuleJson(out);
    expect(capsule.tables.audit_events[0].action).toBe('token.rotate');
    expect(capsule.window.sinceDays).toBe(days);
    const sinceAt = Date.parse(capsule.window.sinceAt);
    const exportedAt = Date.parse(capsule.exportedAt);
    expect(Math.round((exportedAt - sinceAt) / 86_400_000)).toBe(days);
    expect(capsule.exportedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$/);
  });
});
