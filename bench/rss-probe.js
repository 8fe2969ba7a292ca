// Preloaded into the CLI by bench/run.js (`node --import ./bench/rss-probe.js bin/run.js …`): writes the
// process's peak RSS (kB, getrusage maxrss — exact, unlike sampling /proc/<pid>/status) and its CPU time
// (user and system, µs: what the machine's load distorts least) to $REPLAY_ENV_BENCH_RSS_FILE when the
// process exits, however it exits.
import { writeFileSync } from 'node:fs';

const file = process.env.REPLAY_ENV_BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    try {
      const usage = process.resourceUsage();
      writeFileSync(file, `${usage.maxRSS} ${usage.userCPUTime} ${usage.systemCPUTime}`);
    } catch {
      // The benchmark reports a missing figure; never change the CLI's exit.
    }
  });
}
