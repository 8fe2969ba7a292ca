import { readFile, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';

import { ManifestError } from '../errors.js';
import type { EgressStub } from '../generated/manifest.js';
import { isInsideFolder } from '../path-inside.js';

/** A stub with its response body read (from `body`, or from `bodyFile`). */
export interface LoadedStub extends EgressStub {
  responseBody: string;
}

/**
 * A file the manifest names for the egress guard, resolved inside the manifest's folder: an absolute path,
 * `..` or a symbolic link leading out of it is refused (a manifest from a repository must not make `run`
 * serve, or overwrite, files elsewhere on the machine). `existing: false` checks the file's folder instead.
 */
export async function manifestFile(
  manifestDir: string,
  path: string,
  field: string,
  existing: boolean,
): Promise<string> {
  const refuse = (why: string): ManifestError => new ManifestError(`${field} ${path}: ${why}`);
  if (isAbsolute(path)) throw refuse('must be relative to the manifest');
  const folder = await realpath(manifestDir);
  const wanted = resolve(folder, path);
  if (!isInsideFolder(folder, wanted)) throw refuse("must stay inside the manifest's folder");
  const checked = existing ? wanted : dirname(wanted);
  const real = await realpath(checked).catch((error: NodeJS.ErrnoException) => {
    throw refuse(
      existing
        ? `cannot read it (${error.code ?? 'error'})`
        : `its folder is missing (${error.code ?? 'error'})`,
    );
  });
  if (!isInsideFolder(folder, real))
    throw refuse("must stay inside the manifest's folder (a link leads out)");
  return existing ? real : resolve(real, relative(checked, wanted) || '.');
}

/** Reads every stub's body, `bodyFile`s resolved inside the manifest's folder. */
export async function loadStubs(stubs: readonly EgressStub[], manifestDir: string): Promise<LoadedStub[]> {
  return Promise.all(
    stubs.map(async (stub, index) => {
      if (stub.bodyFile === undefined) return { ...stub, responseBody: stub.body ?? '' };
      const field = `egress.stubs[${index}].bodyFile`;
      const file = await manifestFile(manifestDir, stub.bodyFile, field, true);
      const responseBody = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new ManifestError(`${field} ${stub.bodyFile}: cannot read it (${error.code ?? 'error'})`);
      });
      return { ...stub, responseBody };
    }),
  );
}
