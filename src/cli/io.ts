// Where the command line writes: stdout for results, stderr for progress and messages. Tests pass their own.

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** stderr is a terminal: only then is a progress bar drawn. */
  errIsTTY: boolean;
  cwd: string;
  /** Ends what a command leaves running (prsim web's server); none in the command line itself. */
  signal?: AbortSignal;
}

export const processIo: Io = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  errIsTTY: Boolean(process.stderr.isTTY),
  cwd: process.cwd(),
};

/** An Io that keeps everything, for tests and for running commands inside other tools. */
export function memoryIo(cwd = process.cwd(), signal?: AbortSignal): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    errIsTTY: false,
    cwd,
    ...(signal ? { signal } : {}),
    out(t: string) { io.stdout += t; },
    err(t: string) { io.stderr += t; },
  };
  return io;
}
