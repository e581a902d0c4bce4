// File helpers for sweeps: an output file that appears whole or not at all (written beside its place, renamed
// over it when complete), and a line reader that streams a file of any size in fixed chunks, telling where
// each line starts and whether the last one was cut short.
import { closeSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SimError } from '../core/errors.js';

/** A file-system error on a path the user gave, as bad input (exit 2) naming the path. */
export function pathError(path: string, e: unknown): SimError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such folder' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOTDIR' ? 'a part of the path is not a folder' : code === 'ENOSPC' ? 'no space left' : (e as Error).message;
  return new SimError('BAD_CONFIG', `${path}: cannot write (${why})`, { path, code });
}

/** Write every byte of `text` (a short write is continued, never silently dropped). */
export function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/** A file written in pieces under a temporary name, renamed into place by commit(); abort() leaves nothing. */
export class AtomicFile {
  private readonly tmp: string;
  private fd: number | null;

  constructor(readonly path: string) {
    this.tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`);
    try {
      this.fd = openSync(this.tmp, 'w');
    } catch (e) {
      throw pathError(path, e);
    }
  }

  write(text: string): void {
    if (this.fd === null) throw new Error(`${this.path}: written after commit or abort`);
    writeAll(this.fd, text);
  }

  commit(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
    try {
      renameSync(this.tmp, this.path);
    } catch (e) {
      // (a folder where the file should go): the temporary file must not stay behind
      rmSync(this.tmp, { force: true });
      throw pathError(this.path, e);
    }
  }

  abort(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
    rmSync(this.tmp, { force: true });
  }
}

export function writeFileAtomic(path: string, text: string): void {
  const f = new AtomicFile(path);
  try {
    f.write(text);
    f.commit();
  } catch (e) {
    f.abort();
    throw e;
  }
}

export interface LineInfo {
  /** 1-based line number. */
  line: number;
  /** Byte offset of the line's first byte, and its length in bytes without the newline. */
  offset: number;
  length: number;
}

const CHUNK = 1 << 20;

/**
 * Call `each` for every complete line (ending in a newline) of the file, in order, reading 1 MiB at a time.
 * Returns the byte length of the complete lines and the unterminated tail, if any (a write cut short).
 */
export function forEachLine(path: string, each: (text: string, info: LineInfo) => void): { completeBytes: number; tail: LineInfo | null } {
  const fd = openSync(path, 'r');
  try {
    let buf = Buffer.alloc(CHUNK);
    let start = 0; // file offset of buf[0]
    let used = 0; // bytes of buf holding file data
    let line = 0;
    for (;;) {
      if (used === buf.length) {
        // One line longer than the buffer: grow it (rows are about a kilobyte, so this is rare).
        const bigger = Buffer.alloc(buf.length * 2);
        buf.copy(bigger, 0, 0, used);
        buf = bigger;
      }
      const n = readSync(fd, buf, used, buf.length - used, start + used);
      if (n === 0) break;
      used += n;
      let from = 0;
      for (let nl = buf.indexOf(10, from); nl !== -1 && nl < used; nl = buf.indexOf(10, from)) {
        line++;
        each(buf.toString('utf8', from, nl), { line, offset: start + from, length: nl - from });
        from = nl + 1;
      }
      buf.copy(buf, 0, from, used);
      start += from;
      used -= from;
    }
    return { completeBytes: start, tail: used ? { line: line + 1, offset: start, length: used } : null };
  } finally {
    closeSync(fd);
  }
}
