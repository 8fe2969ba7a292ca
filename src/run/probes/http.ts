import { isDeepStrictEqual } from 'node:util';

import { fetch as undiciFetch, ProxyAgent } from 'undici';

import { isLoopbackHost } from '../../egress/rules.js';
import { scrubSecrets } from '../../secrets.js';
import { valueAtPath } from './json-path.js';
import { type ParsedProbe, type ProbeContext, type ProbeEvent, probeEventBase } from './types.js';

/** Bytes of a response body kept for checks; the trace keeps a shorter excerpt. */
const bodyReadLimit = 4 * 1024 * 1024;
const bodyExcerptChars = 2048;
const bodyJsonChars = 256 * 1024;

/** An http(s) probe: the status must match, and the body checks (contains, JSON path) must hold. */
export async function runHttpProbe(probe: ParsedProbe, context: ProbeContext): Promise<ProbeEvent> {
  const event: ProbeEvent = {
    ...probeEventBase(probe, new Date().toISOString()),
    url: probe.url ?? '',
    method: probe.method,
    status: null,
    expectStatus: probe.expectStatus,
    ...(probe.expectBodyContains === undefined ? {} : { expectBodyContains: probe.expectBodyContains }),
    ...(probe.expectJson === undefined ? {} : { expectJson: probe.expectJson }),
  };
  const started = performance.now();
  const signals = [AbortSignal.timeout(probe.timeoutSeconds * 1000)];
  if (context.signal) signals.push(context.signal);
  const proxy = guardedProxy(probe.url!, context);
  try {
    const init = {
      method: probe.method,
      headers: probe.headers,
      body: probe.body,
      redirect: 'manual',
      signal: AbortSignal.any(signals),
    } as const;
    const response = proxy
      ? ((await undiciFetch(probe.url!, { ...init, dispatcher: proxy })) as unknown as Response)
      : await fetch(probe.url!, init);
    event.status = response.status;
    const body = await readLimited(response);
    event.body = scrubSecrets(body.slice(0, bodyExcerptChars));
    Object.assign(event, goldenEvidence(response, body));
    event.message = check(probe, response.status, body, event);
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const name = (error as Error).name;
    event.message =
      name === 'TimeoutError'
        ? `no answer within ${probe.timeoutSeconds}s`
        : `request failed: ${cause?.code ?? cause?.message ?? (error as Error).message}`;
  } finally {
    await proxy?.close();
  }
  event.success = event.message === undefined;
  if (event.message) event.message = scrubSecrets(event.message);
  event.durationMs = Math.round(performance.now() - started);
  return event;
}

/** A probe to a non-loopback host goes through its egress proxy, like a command's requests do. */
function guardedProxy(url: string, context: ProbeContext): ProxyAgent | undefined {
  if (!context.proxy) return undefined;
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return undefined; // fetch reports the bad URL itself
  }
  if (isLoopbackHost(host)) return undefined;
  return new ProxyAgent({ uri: context.proxy.url, requestTls: { ca: context.proxy.caCert } });
}

/** What a golden trace compares (src/golden/): the response headers and the body as JSON, when it is JSON. */
function goldenEvidence(response: Response, body: string): Pick<ProbeEvent, 'headers' | 'bodyJson'> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = name === 'set-cookie' ? '<hidden>' : scrubSecrets(value);
  });
  if (body.length > bodyJsonChars) return { headers };
  try {
    return { headers, bodyJson: JSON.parse(scrubSecrets(body)) as unknown };
  } catch {
    return { headers };
  }
}

function check(probe: ParsedProbe, status: number, body: string, event: ProbeEvent): string | undefined {
  if (status !== probe.expectStatus) return `status ${status}, expected ${probe.expectStatus}`;
  if (probe.expectBodyContains !== undefined && !body.includes(probe.expectBodyContains)) {
    return `body does not contain ${JSON.stringify(probe.expectBodyContains)}`;
  }
  if (probe.expectJson) {
    let document: unknown;
    try {
      document = JSON.parse(body);
    } catch {
      return 'body is not JSON';
    }
    const { found, value } = valueAtPath(document, probe.expectJson.path);
    if (!found) return `JSON path ${probe.expectJson.path} not found`;
    event.jsonValue = value;
    if ('equals' in probe.expectJson && !isDeepStrictEqual(value, probe.expectJson.equals)) {
      return `JSON path ${probe.expectJson.path} is ${truncate(JSON.stringify(value))}, expected ${truncate(JSON.stringify(probe.expectJson.equals))}`;
    }
  }
  return undefined;
}

async function readLimited(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size >= bodyReadLimit) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

function truncate(text: string | undefined, max = 200): string {
  const value = text ?? 'undefined';
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
