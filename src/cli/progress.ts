/**
 * A one-line-per-table progress display for long streams (export, materialize): rows and rows/s,
 * redrawn in place on stderr. Only meant for a TTY and never under `--json`; callers pass `enabled`
 * accordingly (see progressEnabled), and a disabled reporter does nothing at all.
 */
export interface ProgressReporter {
  /** The running row count of `label`; redrawn at most every `intervalMs`. */
  update(label: string, rows: number): void;
  /** `label` is complete: prints its final line and moves on. */
  done(label: string, rows: number): void;
  /** Clears a half-drawn line (on error or interruption). Safe to call twice. */
  stop(): void;
}

export interface ProgressOptions {
  enabled: boolean;
  stream?: NodeJS.WriteStream | { write(text: string): unknown };
  /** Minimum time between redraws (default 100 ms). */
  intervalMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/** True when progress should be drawn: stderr is a terminal and the output is not `--json`. */
export function progressEnabled(json: boolean, stream: { isTTY?: boolean } = process.stderr): boolean {
  return !json && stream.isTTY === true;
}

/** Creates a progress reporter; `{ enabled: false }` gives a no-op. */
export function createProgressReporter(options: ProgressOptions): ProgressReporter {
  if (!options.enabled) return { update() {}, done() {}, stop() {} };
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? (() => performance.now());
  const interval = options.intervalMs ?? 100;
  let current: { label: string; started: number; drawnAt: number } | undefined;
  let lineOpen = false;

  const render = (label: string, rows: number, started: number, final: boolean) => {
    const seconds = Math.max((now() - started) / 1000, 0.001);
    const rate = Math.round(rows / seconds);
    const text = `${label}: ${rows.toLocaleString('en-US')} rows (${rate.toLocaleString('en-US')} rows/s${final ? `, ${seconds.toFixed(1)} s` : ''})`;
    // \r + clear-to-end-of-line redraws in place; the final line ends with a newline and stays.
    stream.write(`\r\x1b[2K${text}${final ? '\n' : ''}`);
    lineOpen = !final;
  };

  const start = (label: string) => {
    if (current?.label !== label) current = { label, started: now(), drawnAt: -Infinity };
    return current;
  };

  return {
    update(label, rows) {
      const entry = start(label);
      const at = now();
      if (at - entry.drawnAt < interval) return;
      entry.drawnAt = at;
      render(label, rows, entry.started, false);
    },
    done(label, rows) {
      const entry = start(label);
      render(label, rows, entry.started, true);
      current = undefined;
    },
    stop() {
      if (lineOpen) stream.write('\r\x1b[2K');
      lineOpen = false;
      current = undefined;
    },
  };
}
