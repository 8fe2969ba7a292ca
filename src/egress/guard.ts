import type { Server as NetServer, Socket } from 'node:net';
import { dirname } from 'node:path';

import { type CompletedRequest, generateCACertificate, getLocal, type Mockttp } from 'mockttp';

import { FileError } from '../errors.js';
import type { EgressEvent } from '../generated/trace.js';
import type { ParsedManifest } from '../manifest/index.js';
import { scrubSecrets } from '../secrets.js';
import { type CaFiles, writeCaFiles } from './ca-files.js';
import { loadStubs, manifestFile } from './manifest-files.js';
import { EgressRecorder, type EgressRecording } from './recorder.js';
import { findStub, hostMatches, isLoopbackHost, normalizeHost } from './rules.js';

type Step = EgressEvent['step'];

/**
 * For tests only, never read from a manifest or a flag: forward what the guard lets through to this proxy
 * (a stand-in for the internet on this machine) and trust these CAs for upstream certificates.
 */
export interface GuardUpstream {
  proxyUrl?: string;
  trustedCAs?: string[];
}

/** The proxy one command, background command or probe talks through. */
export interface StepProxy {
  url: string;
  caCert: string;
}

/**
 * The egress guard of one run: a loopback HTTP/HTTPS proxy per step (so every request is tied to the
 * step that made it), deny by default, stubs answered over HTTP and HTTPS with a per-run CA. Records
 * method, host, port and path — never headers, bodies or query strings.
 */
export interface EgressGuard {
  ca: CaFiles;
  events: EgressEvent[];
  /** Mode record: what `stop()` wrote (undefined before, and in other modes). */
  recording: EgressRecording | undefined;
  /** Starts the proxy of one step; every request through it is recorded under that step's name. */
  proxyFor(step: Step, name: string): Promise<StepProxy>;
  stop(): Promise<void>;
}

export async function startEgressGuard(
  manifest: Pick<ParsedManifest, 'path' | 'raw'>,
  upstream: GuardUpstream = {},
): Promise<EgressGuard> {
  const config = manifest.raw.egress ?? {};
  const mode = config.mode ?? 'deny';
  const allow = config.allow ?? [];
  const manifestDir = dirname(manifest.path);
  const stubs = await loadStubs(config.stubs ?? [], manifestDir);
  const recorder =
    mode === 'record'
      ? new EgressRecorder(
          await manifestFile(
            manifestDir,
            config.recordTo ?? 'egress-recorded.yaml',
            'egress.recordTo',
            false,
          ),
        )
      : undefined;
  const ca = await generateCACertificate({
    subject: { commonName: 'replay-env egress guard (this run only)' },
  });
  const caFiles = await writeCaFiles(ca.cert);
  const events: EgressEvent[] = [];
  const servers: Mockttp[] = [];

  async function proxyFor(step: Step, name: string): Promise<StepProxy> {
    const server = getLocal({ https: { key: ca.key, cert: ca.cert }, recordTraffic: false });
    servers.push(server);
    const record = (
      method: string,
      host: string,
      port: number | null,
      path: string | null,
      verdict: EgressEvent['verdict'],
    ): void => {
      events.push({
        kind: 'egress',
        at: new Date().toISOString(),
        step,
        name,
        method,
        host,
        port,
        path,
        verdict,
      });
    };
    const target = (request: CompletedRequest): { host: string; port: number | null; path: string } => {
      const url = new URL(request.url);
      const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
      // A path can carry a token (/v1/tokens/…): registered secrets are masked, as everywhere in a trace.
      return { host: normalizeHost(url.hostname), port, path: scrubSecrets(url.pathname) };
    };
    await server
      .forAnyRequest()
      .matching((request) => isLoopbackHost(new URL(request.url).hostname))
      .always()
      .thenPassThrough();
    await server
      .forAnyRequest()
      .matching((request) => {
        const { host, path } = target(request);
        return (
          !findStub(stubs, { method: request.method, host, path }) &&
          (mode !== 'deny' || allow.some((pattern) => hostMatches(pattern, host)))
        );
      })
      .always()
      .thenPassThrough({
        ...(upstream.proxyUrl ? { proxyConfig: { proxyUrl: upstream.proxyUrl } } : {}),
        ...(upstream.trustedCAs
          ? { additionalTrustedCAs: upstream.trustedCAs.map((cert) => ({ cert })) }
          : {}),
        beforeRequest: (request) => {
          const { host, port, path } = target(request);
          record(request.method, host, port, path, 'allowed');
        },
        ...(recorder
          ? {
              beforeResponse: async (response, request) => {
                const contentType = response.headers['content-type'];
                recorder.add(
                  { method: request.method, ...target(request) },
                  {
                    status: response.statusCode,
                    contentType: Array.isArray(contentType) ? contentType[0] : contentType,
                    body: await response.body.getDecodedBuffer(),
                  },
                );
              },
            }
          : {}),
      });
    await server
      .forAnyRequest()
      .always()
      .thenCallback((request) => {
        const { host, port, path } = target(request);
        const stub = findStub(stubs, { method: request.method, host, path });
        record(request.method, host, port, path, stub ? 'stubbed' : 'denied');
        if (stub)
          return { statusCode: stub.status ?? 200, headers: stub.headers ?? {}, body: stub.responseBody };
        return {
          statusCode: 403,
          headers: { 'content-type': 'text/plain' },
          body: `replay-env egress guard: ${host} is not allowed during a replay (declare a stub or an allow pattern under egress: in the manifest)\n`,
        };
      });
    // A client that refuses the run's CA (certificate pinning, its own trust store) never sends a request:
    // the attempt is still recorded, as a denied CONNECT.
    await server.on('tls-client-error', (failure) => {
      const host = failure.tlsMetadata.sniHostname ?? failure.destination?.hostname;
      if (host && !isLoopbackHost(host))
        record('CONNECT', normalizeHost(host), failure.destination?.port ?? 443, null, 'denied');
    });
    await server.start();
    acceptLoopbackOnly(server);
    return { url: `http://127.0.0.1:${server.port}`, caCert: ca.cert };
  }

  const unmute = muteRequestFailures();
  const guard: EgressGuard = {
    ca: caFiles,
    events,
    recording: undefined,
    proxyFor,
    async stop() {
      await Promise.allSettled(servers.map((server) => server.stop()));
      unmute();
      await caFiles.remove();
      if (!recorder) return;
      try {
        guard.recording = await recorder.write(new Date().toISOString());
      } catch (error) {
        // writeFileAtomically's FileError carries the system error as its cause (EACCES, ENOSPC…).
        const cause = (error as Error).cause ?? error;
        throw new FileError(
          `egress.recordTo ${recorder.path}: cannot write it (${(cause as NodeJS.ErrnoException).code ?? 'error'})`,
        );
      }
    },
  };
  return guard;
}

/** Guards running in this process (a scenario check may overlap them). */
let running = 0;
let consoleError: typeof console.error | undefined;

/**
 * mockttp reports a request it could not pass through (an upstream that hung up or cannot be reached —
 * often a browser probe stopped while its page loaded) with console.error('Failed to handle request:', …)
 * in this process: a stray line in the library's words, unscrubbed, among the run's own (red team D6).
 * The client gets the failure (a 5xx or a reset), a browser probe counts it (browser_failed_requests), so
 * those lines are dropped while a guard runs; everything else still prints. Returns the undo, once.
 */
function muteRequestFailures(): () => void {
  if (running++ === 0) {
    const original = console.error;
    consoleError = original;
    console.error = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].startsWith('Failed to handle request')) return;
      original.apply(console, args);
    };
  }
  let undone = false;
  return () => {
    if (undone) return;
    undone = true;
    if (--running === 0 && consoleError) {
      console.error = consoleError;
      consoleError = undefined;
    }
  };
}

/**
 * mockttp's start() takes no host and listens on every interface, which made a step's proxy an open
 * proxy to the rest of the network (red team, session 23). Connections from anywhere but loopback are
 * closed before they are read. Fails closed: without the listening server to guard, the run stops.
 */
function acceptLoopbackOnly(server: Mockttp): void {
  const listening = (server as unknown as { server?: NetServer }).server;
  if (!listening || typeof listening.prependListener !== 'function')
    throw new Error('egress guard: cannot restrict its proxy to loopback (mockttp changed)');
  listening.prependListener('connection', (socket: Socket) => {
    // An IPv4 peer of a server listening on `::` arrives IPv4-mapped (::ffff:127.0.0.1).
    const address = (socket.remoteAddress ?? '').replace(/^::ffff:/i, '');
    if (!address || !isLoopbackHost(address)) socket.destroy();
  });
}
