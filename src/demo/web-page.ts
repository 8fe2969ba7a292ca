import { parseDocument } from 'yaml';

import { freePort } from '../postgres/embedded.js';
import { packageRoot } from './sample-app.js';

/** The port the sample manifest's web page listens on; the demo moves it to a free one. */
const manifestPort = '4780';

/**
 * The demo's copy of the sample manifest: commands run from the package (`repoPath`), where the web page
 * script (config/apps/teamdesk/web.js) and its `pg` dependency are, and the page listens on a free port
 * (the web command, its readiness URL and the browser probe's URL all move to it).
 */
export async function placeWebPage(manifestText: string): Promise<string> {
  const port = String(await freePort());
  const document = parseDocument(manifestText);
  document.set('repoPath', packageRoot);
  const retarget = (text: string): string => text.replace(`127.0.0.1:${manifestPort}/`, `127.0.0.1:${port}/`);
  const commands = (document.toJS() as { commands?: Array<{ name: string }> }).commands ?? [];
  commands.forEach((command, index) => {
    if (command.name !== 'web') return;
    document.setIn(['commands', index, 'env', 'TEAMDESK_WEB_PORT'], port);
    const url = document.getIn(['commands', index, 'waitFor', 'url']) as string;
    document.setIn(['commands', index, 'waitFor', 'url'], retarget(url));
  });
  const probes = (document.toJS() as { probes?: Array<{ kind: string; url?: string }> }).probes ?? [];
  probes.forEach((probe, index) => {
    if (probe.kind === 'browser' && probe.url) document.setIn(['probes', index, 'url'], retarget(probe.url));
  });
  return document.toString();
}
