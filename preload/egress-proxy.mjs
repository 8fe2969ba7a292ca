// Loaded into Node children of `replay-env run` through NODE_OPTIONS (--import). Node 20's built-in
// fetch ignores HTTP_PROXY/HTTPS_PROXY; undici's EnvHttpProxyAgent reads them (and NO_PROXY), so setting
// it as the global dispatcher sends the child's fetch through the run's egress guard. The http and https
// modules are routed by egress-node-agents.mjs.
import './egress-node-agents.mjs';

import process from 'node:process';

import { EnvHttpProxyAgent, setGlobalDispatcher } from 'undici';

// undici flags EnvHttpProxyAgent as experimental on every process; that line is not the app's output.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const code = typeof rest[0] === 'object' ? rest[0]?.code : rest[1];
  if (code === 'UNDICI-EHPA') return;
  emitWarning(warning, ...rest);
};
setGlobalDispatcher(new EnvHttpProxyAgent());
process.emitWarning = emitWarning;
