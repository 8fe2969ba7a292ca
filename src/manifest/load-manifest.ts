import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname, resolve } from 'node:path';

import { ManifestError } from '../errors.js';
import type { AppManifest } from '../generated/manifest.js';
import { validateAgainstSchema } from '../validation.js';
import { applyDefaults } from './apply-defaults.js';
import { checkManifest } from './check-manifest.js';
import { jsonErrorPosition } from './json-position.js';
import type { ParsedManifest } from './parsed-manifest.js';

// yaml (~70 modules) is required only for a YAML manifest: a JSON manifest's commands start without it
// (~30 ms, issue #16).
const require = createRequire(import.meta.url);

/**
 * Reads, validates and defaults an app manifest (JSON or YAML). All problems are collected and thrown
 * together as one ManifestError whose message is the first problem and whose `problems` has them all,
 * each as `file: /json/pointer: message`.
 */
export async function loadManifest(file: string, options: { cwd?: string } = {}): Promise<ParsedManifest> {
  const cwd = options.cwd ?? process.cwd();
  const path = resolve(cwd, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : 'cannot be read';
    throw new ManifestError(`${file}: ${reason}`, [`${file}: ${reason}`]);
  }
  return parseManifest(text, { file, path, cwd });
}

/** Parses manifest text; `file` is the name shown in messages, `path` the absolute path. */
export function parseManifest(
  text: string,
  where: { file: string; path: string; cwd: string },
): ParsedManifest {
  const data = parseText(text, where.file, where.path);
  const schemaProblems = validateAgainstSchema('manifest', data);
  if (schemaProblems.length > 0) throw manifestError(where.file, schemaProblems);
  const manifest = applyDefaults(data as AppManifest, where.path, where.cwd);
  const { errors, warnings } = checkManifest(manifest);
  if (errors.length > 0) throw manifestError(where.file, errors);
  manifest.warnings.push(...warnings);
  return manifest;
}

function parseText(text: string, file: string, path: string): unknown {
  const isJson =
    extname(path).toLowerCase() === '.json' || (extname(path) === '' && text.trimStart().startsWith('{'));
  if (isJson) {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      // V8 quotes the offending input in its message, newlines included: keep the error on one line.
      const message = (error as Error).message;
      const at = jsonErrorPosition(text, message);
      const where = at ? ` (line ${at.line}, column ${at.column})` : '';
      const reason = message.replace(/\s*\n\s*/g, ' ').replace(/ in JSON at position \d+.*$/, '');
      throw manifestError(file, [`/: not valid JSON${where}: ${reason}`]);
    }
  }
  const { parseDocument } = require('yaml') as typeof import('yaml');
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw manifestError(
      file,
      document.errors.map((error) => {
        const line = error.linePos?.[0];
        return `/: not valid YAML${line ? ` (line ${line.line}, column ${line.col})` : ''}: ${error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`;
      }),
    );
  }
  try {
    return document.toJS() as unknown;
  } catch (error) {
    // Parsing succeeds but conversion can still fail (an alias to no anchor: `*x`, a ReferenceError), which
    // surfaced as an internal error with a stack trace (found by load-manifest.property.test.ts).
    throw manifestError(file, [`/: not valid YAML: ${(error as Error).message.split('\n')[0]!}`]);
  }
}

function manifestError(file: string, problems: string[]): ManifestError {
  const lines = problems.map((problem) => `${file}: ${problem}`);
  const more =
    lines.length > 1 ? ` (and ${lines.length - 1} more problem${lines.length > 2 ? 's' : ''})` : '';
  return new ManifestError(`${lines[0]}${more}`, lines);
}
