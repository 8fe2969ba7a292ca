import { stringify } from 'yaml';

import { writeFileAtomically } from '../capsule/atomic-file.js';
import type { EgressStub } from '../generated/manifest.js';
import { scrubSecrets } from '../secrets.js';

/** Larger answers are not saved as stubs (a stub body is held in memory by every later run). */
export const maxRecordedBodyBytes = 1024 * 1024;
const stubHost = /^[A-Za-z0-9.-]+$/;

/** What `mode: record` saved: the file, how many stubs, and the answers it could not save (and why). */
export interface EgressRecording {
  path: string;
  stubs: number;
  skipped: string[];
}

/**
 * Mode `record`: keeps the first real answer per method, host and path as a stub (status, content type,
 * text body with registered secrets masked — no other header: they carry cookies and tokens) and writes
 * them, when the run ends, as a YAML file whose `stubs` go under `egress:` of a manifest unchanged.
 */
export class EgressRecorder {
  private readonly stubs = new Map<string, EgressStub>();
  private readonly skipped = new Map<string, string>();

  constructor(readonly path: string) {}

  add(
    request: { method: string; host: string; path: string },
    response: { status: number; contentType: string | undefined; body: Buffer | undefined },
  ): void {
    const key = `${request.method} ${request.host}${request.path}`;
    if (this.stubs.has(key) || this.skipped.has(key)) return;
    const why = skipReason(request, response.body);
    if (why) {
      this.skipped.set(key, why);
      return;
    }
    this.stubs.set(key, {
      host: request.host,
      method: request.method,
      path: request.path,
      status: response.status,
      ...(response.contentType ? { headers: { 'content-type': response.contentType } } : {}),
      body: scrubSecrets(response.body!.toString('utf8')),
    });
  }

  /** Writes the file whole or not at all (capsule/atomic-file.ts: temp file, fsync, rename; mode 0600). */
  async write(recordedAt: string): Promise<EgressRecording> {
    const skipped = [...this.skipped].map(([key, why]) => `${key}: ${why}`);
    const header = [
      `# Recorded by replay-env run (egress mode record) at ${recordedAt}.`,
      '# These are real answers: review them, then put the stubs under egress: in the manifest.',
      ...skipped.map((line) => `# not recorded: ${line}`),
    ];
    const text = `${header.join('\n')}\n${stringify({ stubs: [...this.stubs.values()] })}`;
    await writeFileAtomically(this.path, text);
    return { path: this.path, stubs: this.stubs.size, skipped };
  }
}

function skipReason(request: { host: string; path: string }, body: Buffer | undefined): string | undefined {
  if (!stubHost.test(request.host)) return 'the host cannot be written as a stub host';
  if (request.path.endsWith('*')) return 'a path ending with * would match as a prefix';
  if (body === undefined) return 'the body could not be decoded';
  if (body.length > maxRecordedBodyBytes) return `the body is over ${maxRecordedBodyBytes} bytes`;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return 'the body is not UTF-8 text';
  }
  return undefined;
}
