// A one-line progress bar on stderr, drawn only when stderr is a terminal (never into a pipe or a log file),
// redrawn at most every 100 ms of wall time and erased when done.
import type { Io } from './io.js';

const WIDTH = 30;

export class ProgressBar {
  private last = -Infinity;
  private drawn = false;

  constructor(private readonly io: Io, private readonly label: string) {}

  update(fraction: number, note = ''): void {
    if (!this.io.errIsTTY) return;
    const now = performance.now();
    if (now - this.last < 100 && fraction < 1) return;
    this.last = now;
    const f = Math.max(0, Math.min(1, fraction));
    const filled = Math.round(f * WIDTH);
    const bar = '#'.repeat(filled) + '-'.repeat(WIDTH - filled);
    this.io.err(`\r${this.label} [${bar}] ${String(Math.floor(f * 100)).padStart(3)}%${note ? ` ${note}` : ''}\x1b[K`);
    this.drawn = true;
  }

  done(): void {
    if (this.drawn) this.io.err('\r\x1b[K');
    this.drawn = false;
  }
}
