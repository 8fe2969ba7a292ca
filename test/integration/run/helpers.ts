import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadManifest, type ParsedManifest } from '../../../src/manifest/index.js';
import { lineCapsuleText, type TestCapsule } from '../../setup/capsules.js';
import type { TestDatabase } from '../../setup/database.js';

export const fixtures = fileURLToPath(new URL('../../fixtures/run/', import.meta.url));

export const schemaSql = `
  create table users (tenant_id text, user_id text, name text, api_token text, primary key (tenant_id, user_id));
  create table notes (id int primary key, tenant_id text, user_id text, body text);
`;

/** The history of one subject (t1/u1) who shares a note thread with u2. */
export function appCapsule(overrides: Partial<TestCapsule> = {}): TestCapsule {
  return {
    app: 'runapp',
    subject: { tenant_id: 't1', user_id: 'u1' },
    graph: [
      { tenant_id: 't1', user_id: 'u1', reasons: ['subject'] },
      { tenant_id: 't1', user_id: 'u2', reasons: ['commented'] },
    ],
    tables: {
      users: [
        { tenant_id: 't1', user_id: 'u1', name: 'Ada', api_token: 'redacted-token-3376300c1af8' },
        { tenant_id: 't1', user_id: 'u2', name: 'Bob', api_token: null },
      ],
      notes: [{ id: 1, tenant_id: 't1', user_id: 'u1', body: 'hello' }],
    },
    extra: { redaction: 'safe' },
    ...overrides,
  };
}

export interface AppSetup {
  dir: string;
  manifest: ParsedManifest;
  capsule: string;
}

/** Writes a manifest (commands, probes, extra fields) and a capsule into a fresh temp dir. */
export async function writeApp(options: {
  manifest?: Record<string, unknown>;
  capsule?: TestCapsule;
}): Promise<AppSetup> {
  const dir = await mkdtemp(join(tmpdir(), 'replay-env-run-'));
  const manifest = {
    appId: 'runapp',
    adapter: 'postgres-subject-graph.v1',
    subjectKeys: ['tenant_id', 'user_id'],
    repoPath: fixtures,
    postgres: {
      tableOrder: ['users', 'notes'],
      tables: [
        { name: 'users', deletePredicate: 't.tenant_id = g.tenant_id and t.user_id = g.user_id' },
        { name: 'notes', deletePredicate: 't.tenant_id = g.tenant_id and t.user_id = g.user_id' },
      ],
    },
    redactionRules: [{ table: 'users', fields: ['api_token'], action: 'hash', prefix: 'redacted-token-' }],
    ...options.manifest,
  };
  await writeFile(join(dir, 'app.json'), JSON.stringify(manifest, null, 2));
  const capsule = join(dir, 'capsule.json');
  await writeFile(capsule, lineCapsuleText(options.capsule ?? appCapsule()));
  return { dir, manifest: await loadManifest(join(dir, 'app.json')), capsule };
}

export async function createSchema(db: TestDatabase): Promise<void> {
  await db.query(schemaSql);
}

/** Whether a TCP port on 127.0.0.1 accepts connections. */
export async function portOpen(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
