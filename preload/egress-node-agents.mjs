// Imported by egress-proxy.mjs. Node 20's http and https modules ignore HTTP_PROXY/HTTPS_PROXY (and
// NODE_USE_ENV_PROXY): this replaces their global agents with agents that open every non-loopback connection
// as a CONNECT tunnel through the step's egress proxy (TLS then runs inside the tunnel, so HTTPS is checked
// against the run's CA from NODE_EXTRA_CA_CERTS). Requests that bring their own agent are not covered.
import { Buffer } from 'node:buffer';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import process from 'node:process';
import tls from 'node:tls';
import { URL } from 'node:url';

const proxyText = process.env.HTTPS_PROXY || process.env.HTTP_PROXY;
const noProxy = (process.env.NO_PROXY || '')
  .split(',')
  .map((name) => name.trim().toLowerCase())
  .filter(Boolean);

function bypass(host) {
  const name = String(host || 'localhost')
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return (
    name === 'localhost' ||
    name.endsWith('.localhost') ||
    /^127\.\d+\.\d+\.\d+$/.test(name) ||
    name === '::1' ||
    noProxy.includes(name)
  );
}

/** Opens a CONNECT tunnel to host:port through the proxy; calls back with the raw socket. */
function tunnel(proxy, host, port, callback) {
  const socket = net.connect(Number(proxy.port), proxy.hostname);
  let answer = '';
  const fail = (error) => {
    socket.destroy();
    callback(error);
  };
  socket.once('error', fail);
  socket.once('connect', () => {
    const authority = net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  });
  const onData = (chunk) => {
    answer += chunk.toString('latin1');
    const end = answer.indexOf('\r\n\r\n');
    if (end === -1) return;
    socket.off('data', onData);
    socket.off('error', fail);
    if (!/^HTTP\/1\.[01] 200/.test(answer))
      return fail(new Error(`egress proxy refused CONNECT ${host}:${port}`));
    // Bytes after the proxy's answer belong to the tunnelled stream.
    const rest = Buffer.from(answer.slice(end + 4), 'latin1');
    if (rest.length > 0) socket.unshift(rest);
    callback(null, socket);
  };
  socket.on('data', onData);
}

if (proxyText) {
  const proxy = new URL(proxyText);
  class GuardedHttpAgent extends http.Agent {
    createConnection(options, callback) {
      if (bypass(options.host)) return super.createConnection(options, callback);
      tunnel(proxy, options.host, options.port || 80, callback);
      return undefined;
    }
  }
  class GuardedHttpsAgent extends https.Agent {
    createConnection(options, callback) {
      if (bypass(options.host)) return super.createConnection(options, callback);
      tunnel(proxy, options.host, options.port || 443, (error, socket) => {
        if (error) return callback(error);
        const servername = options.servername || (net.isIP(options.host) ? undefined : options.host);
        const secure = tls.connect({ ...options, socket, servername });
        const failed = (failure) => callback(failure);
        secure.once('error', failed);
        secure.once('secureConnect', () => {
          secure.off('error', failed);
          callback(null, secure);
        });
      });
      return undefined;
    }
  }
  http.globalAgent = new GuardedHttpAgent({ keepAlive: true });
  https.globalAgent = new GuardedHttpsAgent({ keepAlive: true });
}
