// CPU seconds of a process on this machine from /proc/<pid>/stat (user + system, clock ticks of 1/100 s):
// `own` for the process, `children` for the children it has reaped — for the postmaster, every backend
// and parallel worker that has exited. Used by the benches to measure the server's CPU, not wall time.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** utime + stime and cutime + cstime of `pid`, in seconds. */
export async function cpuOf(pid) {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ').map(Number);
  return { own: (fields[11] + fields[12]) / 100, children: (fields[13] + fields[14]) / 100 };
}

/** The postmaster's pid of a server started with this data directory. */
export async function postmasterPid(dataDir) {
  return Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
}
