import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

import { type CompletedRequest, generateCACertificate, getLocal, type Mockttp } from 'mockttp';

import { ManifestError } from '../errors.js';
import type { EgressStub } from '../generated/manifest.js';
import type { EgressEvent } from '../generated/trace.js';
import type { ParsedManifest } from '../manifest/index.js';
import { scrubSecrets } from '../secrets.js';
import { type CaFiles, writeCaFiles } from './ca-files.js';
import { findStub, hostMatches, isLoopbackHost, normalizeHost } from './rules.js';

type Step = EgressEvent['step'];
interface LoadedStub extends EgressStub {
  responseBody: string;
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
  /** Starts the proxy of one step; every request through it is recorded under that step's name. */
  proxyFor(step: Step, name: string): Promise<StepProxy>;
  stop(): Promise<void>;
}

export async function startEgressGuard(manifest: Pick<ParsedManifest, 'path' | 'raw'>): Promise<EgressGuard> {
  const config = manifest.raw.egress ?? {};
  const mode = config.mode ?? 'deny';
  const allow = config.allow ?? [];
  const stubs = await loadStubs(config.stubs ?? [], dirname(manifest.path));
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
          (mode === 'passthrough' || allow.some((pattern) => hostMatches(pattern, host)))
        );
      })
      .always()
      .thenPassThrough({
        beforeRequest: (request) => {
          const { host, port, path } = target(request);
          record(request.method, host, port, path, 'allowed');
        },
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
    return { url: `http://127.0.0.1:${server.port}`, caCert: ca.cert };
  }

  return {
    ca: caFiles,
    events,
    proxyFor,
    async stop() {
      await Promise.allSettled(servers.map((server) => server.stop()));
      await caFiles.remove();
    },
  };
}

async function loadStubs(stubs: EgressStub[], manifestDir: string): Promise<LoadedStub[]> {
  return Promise.all(
    stubs.map(async (stub, index) => {
      if (stub.bodyFile === undefined) return { ...stub, responseBody: stub.body ?? '' };
      try {
        return { ...stub, responseBody: await readFile(resolve(manifestDir, stub.bodyFile), 'utf8') };
      } catch (error) {
        throw new ManifestError(
          `egress.stubs[${index}].bodyFile ${stub.bodyFile}: cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        );
      }
    }),
  );
}
