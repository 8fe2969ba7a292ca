import { mkdir, mkdtemp, realpath, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { ManifestError } from '../errors.js';
import { loadStubs, manifestFile } from './manifest-files.js';

describe('files an egress section names stay inside the manifest folder', () => {
  let root: string;
  let app: string;
  beforeAll(async () => {
    root = await realpath(await mkdtemp(join(tmpdir(), 'replay-env-manifest-files-')));
    app = join(root, 'app');
    await mkdir(join(app, 'bodies'), { recursive: true });
    await writeFile(join(app, 'bodies', 'ok.json'), '{"ok":true}');
    await writeFile(join(root, 'outside.txt'), 'outside secret');
    await symlink(join(root, 'outside.txt'), join(app, 'bodies', 'link-out.json'));
    await symlink(root, join(app, 'up'));
  });

  it('reads a bodyFile relative to the manifest', async () => {
    const [stub] = await loadStubs([{ host: 'a.test', bodyFile: 'bodies/../bodies/ok.json' }], app);
    expect(stub?.responseBody).toBe('{"ok":true}');
  });

  it.each([
    ['../outside.txt', "must stay inside the manifest's folder"],
    ['bodies/../../outside.txt', "must stay inside the manifest's folder"],
    ['/etc/passwd', 'must be relative to the manifest'],
    ['bodies/link-out.json', 'a link leads out'],
    ['up/outside.txt', 'a link leads out'],
    ['bodies/missing.json', 'cannot read it (ENOENT)'],
  ])('refuses bodyFile %s', async (bodyFile, why) => {
    const loading = loadStubs([{ host: 'a.test', body: undefined, bodyFile }], app);
    await expect(loading).rejects.toThrow(ManifestError);
    await expect(loading).rejects.toThrow(`egress.stubs[0].bodyFile ${bodyFile}: `);
    await expect(loading).rejects.toThrow(why);
  });

  it('resolves a file to write inside the folder, and refuses one outside', async () => {
    expect(await manifestFile(app, 'recorded.yaml', 'egress.recordTo', false)).toBe(
      join(app, 'recorded.yaml'),
    );
    await expect(manifestFile(app, '../x.yaml', 'egress.recordTo', false)).rejects.toThrow(
      "egress.recordTo ../x.yaml: must stay inside the manifest's folder",
    );
    await expect(manifestFile(app, 'up/x.yaml', 'egress.recordTo', false)).rejects.toThrow(
      'a link leads out',
    );
    await expect(manifestFile(app, 'nowhere/x.yaml', 'egress.recordTo', false)).rejects.toThrow(
      'egress.recordTo nowhere/x.yaml: its folder is missing (ENOENT)',
    );
  });
});
