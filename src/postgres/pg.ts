import { createRequire } from 'node:module';

import type PgModule from 'pg';

/**
 * node-postgres, loaded without the cost of its Cloudflare Workers probe: when pg's lib/stream.js is
 * first evaluated it reads the global `Response` to tell a Worker from Node, and on Node 20 that first
 * read loads fetch's whole implementation (undici, with http and http2): ~40 ms of every command's
 * start-up that no replay-env command uses (issue #16). The probe runs once, while pg is required here,
 * so `Response` is hidden for that require only and put back as it was. Every module that creates pg
 * objects imports them from here (eslint's no-restricted-imports), so this require is the one that
 * loads pg; types still come from 'pg'.
 */
function loadPg(): typeof PgModule {
  const require = createRequire(import.meta.url);
  const response = Object.getOwnPropertyDescriptor(globalThis, 'Response');
  if (!response?.configurable) return require('pg') as typeof PgModule;
  Object.defineProperty(globalThis, 'Response', { value: undefined, configurable: true, writable: true });
  try {
    return require('pg') as typeof PgModule;
  } finally {
    Object.defineProperty(globalThis, 'Response', response);
  }
}

const pg = loadPg();

export const { Client, Query } = pg;
