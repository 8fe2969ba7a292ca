#!/usr/bin/env node
// Before oclif loads (a few hundred ms): a Ctrl-C during start-up is held for the commands that stop
// cleanly on one (src/early-signals.ts), not left to Node's default death without a line or a trace.
import { holdSignalsDuringStartUp } from '../dist/early-signals.js';

holdSignalsDuringStartUp(process.argv.slice(2));
const { execute } = await import('@oclif/core/execute');
await execute({ dir: import.meta.url });
