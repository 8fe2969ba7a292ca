import * as Flags from '@oclif/core/flags';

import { BaseCommand } from '../cli/base-command.js';
import { renderProxyBanner, renderProxyEvent } from '../cli/render/record.js';
import { jsonProxyEvent, readyEvent } from '../cli/render/record-events.js';
import { UsageError } from '../errors.js';
import { loadManifest } from '../manifest/index.js';
import { scrubSecrets } from '../secrets.js';
import { type RecordResult, recordUntilStopped } from '../services/record.js';
import { resolveRecordOptions } from '../session/record-options.js';

export default class Record extends BaseCommand<typeof Record> {
  static override summary = 'Run a Postgres proxy that records every session through it into session files.';
  static override description =
    'Clients log in as a pseudo user; the proxy logs in to the target with the real credentials (which never reach the client, the console or a session file) and writes each session to DIR/<pseudo_user>_<YYYY-MM-DD_HH-MM-SS>.json. Stop it with Ctrl-C.';
  static override examples = [
    '<%= config.bin %> record --target-url "$APP_REPLAY_DATABASE_URL" --pseudo-user alice:local-secret',
    '<%= config.bin %> record --app config/apps/teamdesk.yaml --redact --pseudo-user alice:local-secret',
  ];

  static override flags = {
    app: Flags.string({
      char: 'a',
      summary: 'App manifest: its `session` block gives defaults, its redaction rules --redact.',
      helpValue: 'MANIFEST',
    }),
    listen: Flags.string({
      summary: 'Address to listen on (default 127.0.0.1:5433).',
      helpValue: 'HOST:PORT',
    }),
    'target-url': Flags.string({
      summary: 'Real database URL (default: the env var named by the manifest session.targetUrlEnv).',
      helpValue: 'URL',
    }),
    'pseudo-user': Flags.string({
      multiple: true,
      required: true,
      summary: 'A login clients may use; repeat for several.',
      helpValue: 'NAME:PASSWORD',
    }),
    'sessions-dir': Flags.string({
      summary: 'Folder for session files (default: sessions).',
      helpValue: 'DIR',
    }),
    'tls-cert': Flags.string({
      summary:
        'PEM certificate offered to clients that ask for TLS (default: a self-signed one made per run).',
      helpValue: 'FILE',
      dependsOn: ['tls-key'],
    }),
    'tls-key': Flags.string({
      summary: 'PEM private key of --tls-cert.',
      helpValue: 'FILE',
      dependsOn: ['tls-cert'],
    }),
    'client-tls': Flags.boolean({
      summary: 'Accept TLS from clients (--no-client-tls answers their TLS request with "no").',
      allowNo: true,
      default: true,
    }),
    'max-rows': Flags.integer({
      summary:
        'Rows kept per recorded result; beyond it the row count and a digest of all rows (default 1000).',
      min: 1,
      helpValue: 'N',
    }),
    'max-copy-mib': Flags.integer({
      summary:
        'COPY FROM STDIN data kept per session, in MiB (default 256); a COPY beyond it is recorded by size and digest only and replay refuses it.',
      min: 0,
      helpValue: 'MIB',
    }),
    redact: Flags.boolean({
      summary: "Apply the manifest's redaction rules to recorded result columns (needs --app).",
      allowNo: true,
    }),
  };

  public async run(): Promise<RecordResult> {
    const manifest = this.flags.app ? await loadManifest(this.flags.app) : undefined;
    if (this.flags.redact && !manifest)
      throw new UsageError('--redact needs --app (the rules come from the manifest)');
    const { flags } = this;
    const options = resolveRecordOptions(
      {
        listen: flags.listen,
        targetUrl: flags['target-url'],
        pseudoUsers: flags['pseudo-user'],
        sessionsDir: flags['sessions-dir'],
        redact: flags.redact,
      },
      manifest,
    );
    const live = !this.jsonEnabled();
    const emit = (event: object | undefined): void => {
      if (event) process.stderr.write(`${scrubSecrets(JSON.stringify(event))}\n`);
    };
    const { 'tls-cert': certFile, 'tls-key': keyFile } = this.flags;
    return await recordUntilStopped({
      ...options,
      ...(flags['max-rows'] !== undefined ? { maxRecordedRows: flags['max-rows'] } : {}),
      ...(flags['max-copy-mib'] !== undefined ? { maxCopyBytes: flags['max-copy-mib'] * 1024 * 1024 } : {}),
      clientTls: !this.flags['client-tls']
        ? 'off'
        : certFile && keyFile
          ? { certFile, keyFile }
          : 'self-signed',
      onStarted: (proxy) =>
        live
          ? this.log(
              scrubSecrets(
                renderProxyBanner({
                  address: proxy.address,
                  pseudoUsers: options.pseudoUsers.map((user) => user.name),
                  target: options.target.toString(),
                  database: options.target.database,
                  sessionsDir: options.sessionsDir,
                  recovered: proxy.recovered,
                  clientTls: proxy.clientTls,
                  targetCheck: proxy.target,
                  warnings: proxy.warnings,
                }).join('\n'),
              ),
            )
          : emit(readyEvent(proxy, options.target.toString(), options.sessionsDir)),
      onEvent: (event) =>
        live ? this.log(scrubSecrets(renderProxyEvent(event).join('\n'))) : emit(jsonProxyEvent(event)),
    });
  }
}
