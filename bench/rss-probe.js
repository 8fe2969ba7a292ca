// Preloaded into the CLI by bench/run.js (`node --import ./bench/rss-probe.js bin/run.js …`): writes the
// process's peak RSS (kB, getrusage maxrss — exact, unlike sampling /proc/<pid>/status) to
// $REPLAY_ENV_BENCH_RSS_FILE when the process exits, however it exits.
import { writeFileSync } from 'node:fs';

const file = process.env.REPLAY_ENV_BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    try {
      writeFileSync(file, String(process.resourceUsage().maxRSS));
    } catch {
      // The benchmark reports a missing figure; never change the CLI's exit.
    }
  });
}
