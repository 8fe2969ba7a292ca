import { readdirSync, readFileSync } from 'node:fs';

/**
 * Process groups started by this process, so they can be stopped on every way out: normal end, error,
 * SIGINT/SIGTERM, or (last resort) process exit. Children are spawned `detached`, so each leads its own
 * group and `kill(-pgid)` reaches its whole tree (shell, app, the app's workers).
 */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

export function trackGroup(pgid: number): void {
  liveGroups.add(pgid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Synchronous on purpose: nothing asynchronous runs in an 'exit' handler.
    process.on('exit', () => killAllGroupsNow());
  }
}

export function untrackGroup(pgid: number): void {
  liveGroups.delete(pgid);
}

/** SIGKILLs every tracked group at once (second Ctrl-C, process exit). */
export function killAllGroupsNow(): void {
  for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
  liveGroups.clear();
}

/** Sends a signal to a whole group; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether any live (non-zombie) process is still in the group. On Linux /proc is read, because an
 * orphaned child that PID 1 never reaps stays a zombie and would look alive to `kill(-pgid, 0)`.
 */
export function groupAlive(pgid: number): boolean {
  if (process.platform !== 'linux') return signalGroup(pgid, 0);
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return signalGroup(pgid, 0);
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X') return true;
  }
  return false;
}

/** Whether one process is alive (a zombie counts as gone). */
export function processAlive(pid: number): boolean {
  if (process.platform === 'linux') {
    const stat = readStat(pid);
    return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readStat(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses; the fields after its last ')' do not.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, pgrp: Number(rest[2]) };
  } catch {
    return undefined;
  }
}

/**
 * Stops a process group: SIGTERM, then SIGKILL after `graceMs` if anything in it is still alive.
 * Resolves once the group is gone (or a last SIGKILL has been sent).
 */
export async function stopGroup(pgid: number, graceMs: number): Promise<void> {
  if (groupAlive(pgid)) {
    signalGroup(pgid, 'SIGTERM');
    if (!(await waitUntil(() => !groupAlive(pgid), graceMs))) {
      signalGroup(pgid, 'SIGKILL');
      await waitUntil(() => !groupAlive(pgid), 2000);
    }
  }
  untrackGroup(pgid);
}

async function waitUntil(done: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}
