-- Sample history for teamdesk: two tenants; in acme, ada (the subject of the docs) files tickets that bob
-- works on, cy comments on, and dee reacts to; ada also comments on eve's ticket. Secrets sit in api_token,
-- profile.phone (nested) and audit payloads, for redaction to find.
insert into tenants values
  ('acme', 'Acme Corp', 'enterprise', '{"sso": true, "locale": "en-GB"}', '2024-01-10 09:00:00+00'),
  ('globex', 'Globex', 'starter', '{}', '2024-03-01 12:00:00+00');

insert into users values
  ('acme', 'ada', 'ada@acme.example', 'Ada "the first" Lovelace', 'sk-live-ada-4f9a8b7c6d5e4f3a2b1c', '{admin,agent}',
   '{"phone": "+44 20 7946 0001", "prefs": {"theme": "dark", "phone": "+44 20 7946 0002"}}', '\x89504e470d0a1a0a', '2026-11-01 08:30:00', '2024-01-10 09:05:00+00'),
  ('acme', 'bob', 'bob@acme.example', E'Bob O''Neil\tSupport', 'xoxb-1234-5678-abcdefghijkl', '{agent}', '{"prefs": {}}', null, '2026-11-02 10:00:00', '2024-01-11 09:00:00+00'),
  ('acme', 'cy', 'cy@acme.example', 'Cy 🚀 Ng', null, '{}', '{"note": "line1\nline2 \\ backslash"}', null, null, '2024-02-01 09:00:00+00'),
  ('acme', 'dee', 'dee@acme.example', 'Dee', null, '{}', '{}', null, null, '2024-02-02 09:00:00+00'),
  ('acme', 'eve', 'eve@acme.example', 'Eve', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789', '{}', '{}', null, null, '2024-02-03 09:00:00+00'),
  ('acme', 'zed', 'zed@acme.example', 'Zed (unrelated)', null, '{}', '{}', null, null, '2024-02-04 09:00:00+00'),
  ('globex', 'ada', 'ada@globex.example', 'Ada at Globex', null, '{}', '{}', null, null, '2024-03-02 09:00:00+00');

insert into tickets (id, tenant_id, requester_user_id, assignee_user_id, subject, status, priority, tags, amount, due_on, metadata, created_at, updated_at) values
  ('00000000-0000-4000-8000-000000000001', 'acme', 'ada', 'bob', 'Invoice total is wrong', 'open', 2, '{billing,"needs, triage"}', 1234.50, '2026-12-01',
   '{"source": "email", "attachments": [{"name": "invoice.pdf", "bytes": 48213}]}', '2026-10-01 10:00:00+00', '2026-10-02 11:00:00+00'),
  ('00000000-0000-4000-8000-000000000002', 'acme', 'ada', null, 'Cannot export CSV', 'pending', 3, '{}', null, null, null,
   '2026-10-05 10:00:00+00', '2026-10-05 10:00:00+00'),
  ('00000000-0000-4000-8000-000000000003', 'acme', 'eve', 'bob', 'SSO login loop', 'solved', 1, '{sso}', 0, '2026-10-20', '{"source": "chat"}',
   '2026-10-10 10:00:00+00', '2026-10-12 10:00:00+00'),
  ('00000000-0000-4000-8000-000000000004', 'acme', 'zed', null, 'Unrelated ticket', 'closed', 4, '{}', null, null, null,
   '2026-09-01 10:00:00+00', '2026-09-01 10:00:00+00'),
  ('00000000-0000-4000-8000-000000000005', 'globex', 'ada', null, 'Other tenant, same user id', 'open', 3, '{}', null, null, null,
   '2026-10-01 10:00:00+00', '2026-10-01 10:00:00+00');

insert into comments (id, ticket_id, tenant_id, author_user_id, body, internal, created_at) values
  (1, '00000000-0000-4000-8000-000000000001', 'acme', 'bob', 'Looking into it — can you send the PDF?', false, '2026-10-01 11:00:00+00'),
  (2, '00000000-0000-4000-8000-000000000001', 'acme', 'ada', E'Attached. Total should be 1\u00a0234,50 €', false, '2026-10-01 12:00:00+00'),
  (3, '00000000-0000-4000-8000-000000000001', 'acme', 'cy', 'Internal: rounding bug in tax calc?', true, '2026-10-01 13:00:00+00'),
  (4, '00000000-0000-4000-8000-000000000003', 'acme', 'ada', 'Same here, SSO loops for me too', false, '2026-10-10 12:00:00+00'),
  (5, '00000000-0000-4000-8000-000000000004', 'acme', 'zed', 'nobody else', false, '2026-09-01 11:00:00+00');
select setval(pg_get_serial_sequence('comments', 'id'), 100);

insert into reactions values
  (1, 'acme', 'ada', '👍', '2026-10-01 11:30:00+00'),
  (2, 'acme', 'dee', '🎉', '2026-10-01 12:30:00+00'),
  (4, 'acme', 'eve', '👀', '2026-10-10 12:30:00+00');

insert into audit_events (tenant_id, actor_user_id, action, payload, ip, occurred_at) values
  ('acme', 'ada', 'login', '{"method": "password", "password": "hunter2"}', '203.0.113.7', '2026-10-01 09:59:00+00'),
  ('acme', 'ada', 'token.rotate', '{"token": "sk-live-old-0000000000000000", "by": "ada"}', '2001:db8::1', '2026-10-03 09:00:00+00'),
  ('acme', 'bob', 'ticket.assign', '{"ticket": "00000000-0000-4000-8000-000000000001"}', null, '2026-10-01 10:05:00+00'),
  ('acme', 'zed', 'login', '{}', null, '2026-09-01 09:00:00+00');
