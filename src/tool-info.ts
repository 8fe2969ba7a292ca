import { readFile } from 'node:fs/promises';

let cached: { name: string; version: string } | undefined;

/** `{ name: 'replay-env', version }` from package.json (one level up from src/ and from dist/); the one place the version is read. */
export async function toolInfo(): Promise<{ name: string; version: string }> {
  if (!cached) {
    const text = await readFile(new URL('../package.json', import.meta.url), 'utf8');
    const pkg = JSON.parse(text) as { version?: string };
    cached = { name: 'replay-env', version: pkg.version ?? '0.0.0' };
  }
  return cached;
}
