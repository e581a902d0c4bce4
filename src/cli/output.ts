// Files the command line writes (--csv, --html): checked before the run starts, then written whole or not at all.
//
// Before the run each output reserves a temporary file next to its target (same folder, so the final rename
// stays on one file system and is atomic); creating it is the real test that the folder exists and can be
// written, whatever the reason it could not (missing, read-only, /proc, a full disk). After the run the content
// goes to the temporary file, which is then renamed over the target: a failure at any point leaves the old file
// as it was and removes the temporary one. An output that is one of the inputs, or named twice, is refused.
import { closeSync, constants, openSync, readdirSync, type Dirent, realpathSync, renameSync, statSync, unlinkSync, accessSync, chmodSync, fsyncSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { writeAll } from '../sweep/files.js';
import { UsageError } from './usage-error.js';

/** Temporary files not yet renamed or removed: removed on exit whatever ends the process (EPIPE, a signal). */
const live = new Set<string>();
let exitHook = false;
function track(temp: string): void {
  live.add(temp);
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const t of live) {
      try {
        unlinkSync(t);
      } catch {
        // already gone
      }
    }
  });
  // Ctrl-C during the run: the 'exit' handlers above run only when the process exits, not when a signal kills it.
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
}

export interface Output {
  /** The option that named it (--csv), for messages. */
  flag: string;
  /** As the user wrote it. */
  given: string;
  /** Absolute. */
  path: string;
  /** The reserved temporary file; null for a special file (a device or a pipe), which is written in place. */
  temp: string | null;
  fd: number;
  /** A device or a pipe, opened on its first write. */
  special: boolean;
  /** Renamed into place (or closed): nothing more goes to it. */
  done: boolean;
}

function fsMessage(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT': return 'no such directory';
    case 'ENOTDIR': return 'a part of the path is not a directory';
    case 'EACCES':
    case 'EPERM': return 'permission denied';
    case 'EROFS': return 'read-only file system';
    case 'ENOSPC': return 'no space left on the device';
    case 'EDQUOT': return 'disk quota exceeded';
    case 'EISDIR': return 'is a directory';
    case 'ENAMETOOLONG': return 'file name too long';
    case 'ELOOP': return 'too many symbolic links';
    default: return (e as Error).message;
  }
}

/** The identity of an existing file (device and inode), or null when there is none. */
function identity(path: string): string | null {
  try {
    const s = statSync(path);
    return `${s.dev}:${s.ino}`;
  } catch {
    return null;
  }
}

/**
 * Check every output and reserve its temporary file, before any work. `inputs` are the files the command reads:
 * an output that is one of them (by identity, so a link or another spelling counts) is refused.
 */
export function prepareOutputs(wanted: Array<{ flag: string; given: string | undefined }>, inputs: string[], cwd: string): Output[] {
  const inputIds = new Map<string, string>();
  for (const i of inputs) {
    const id = identity(i);
    if (id) inputIds.set(id, i);
  }
  const outs: Output[] = [];
  const seen = new Map<string, string>();
  try {
    for (const { flag, given } of wanted) {
      if (given === undefined) continue;
      if (given === '') throw new UsageError(`${flag}: expected a file name, got ''`);
      let path = resolve(cwd, given);
      // Through a symbolic link to the file it names, as `>` would write: the link itself stays.
      try {
        path = realpathSync(path);
      } catch {
        // not there yet (or a dangling link): written where it was named
      }
      const where = `${flag} ${given}`;
      const other = seen.get(path);
      if (other) throw new UsageError(`${where}: the same file as ${other}; give each output its own file`);
      seen.set(path, flag);
      let existing: ReturnType<typeof statSync> | null = null;
      try {
        existing = statSync(path);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') throw new UsageError(`${where}: ${fsMessage(e)}`);
      }
      if (existing) {
        if (existing.isDirectory()) throw new UsageError(`${where}: is a directory, expected a file name`);
        const input = inputIds.get(`${existing.dev}:${existing.ino}`);
        if (input !== undefined) throw new UsageError(`${where}: is an input of this run (${input}); writing it would destroy it`);
        try {
          accessSync(path, constants.W_OK);
        } catch (e) {
          throw new UsageError(`${where}: ${fsMessage(e)}`);
        }
        if (!existing.isFile()) {
          // A device or a pipe (/dev/null, /dev/stdout, a FIFO): written in place, never renamed over.
          outs.push({ flag, given, path, temp: null, fd: -1, special: true, done: false });
          continue;
        }
      }
      const temp = resolve(dirname(path), `.${basename(path)}.prsim-${process.pid}.tmp`);
      let fd: number;
      try {
        fd = openSync(temp, 'wx', existing ? existing.mode & 0o777 : 0o666);
      } catch (e) {
        // ENOENT in a folder that exists: a file system that cannot hold new files (/proc, /sys).
        const folderExists = (() => {
          try {
            return statSync(dirname(path)).isDirectory();
          } catch {
            return false;
          }
        })();
        const why = (e as NodeJS.ErrnoException).code === 'ENOENT' && folderExists ? 'new files cannot be created there' : fsMessage(e);
        throw new UsageError(`${where}: cannot write in ${dirname(given) || '.'}: ${why}`);
      }
      track(temp);
      outs.push({ flag, given, path, temp, fd, special: false, done: false });
    }
  } catch (e) {
    discardOutputs(outs);
    throw e;
  }
  return outs;
}

/** Write a piece of an output (one written as it is made, as a sweep's rows); commitOutput() finishes it. */
export function writeOutputPart(out: Output, text: string): void {
  if (out.done) throw new Error(`${out.flag} ${out.given}: written after it was finished`);
  try {
    if (out.special && out.fd < 0) out.fd = openSync(out.path, 'w');
    writeAll(out.fd, text);
  } catch (e) {
    discardOutputs([out]);
    throw new UsageError(out.special ? `${out.flag} ${out.given}: ${fsMessage(e)}` : `${out.flag} ${out.given}: not written (${fsMessage(e)}); the old file, if any, is unchanged`);
  }
}

/** Write the rest of an output (or all of it): to its temporary file, synced, then renamed over the target. */
export function commitOutput(out: Output, content: string): void {
  writeOutputPart(out, content);
  if (out.special) {
    closeSync(out.fd);
    out.fd = -1;
    out.done = true;
    return;
  }
  try {
    fsyncSync(out.fd);
    closeSync(out.fd);
    out.fd = -1;
    // The mode the old file had (the temporary file was created with it, but the umask may have cut it).
    try {
      const mode = statSync(out.path).mode & 0o777;
      chmodSync(out.temp!, mode);
    } catch {
      // no old file: the new one keeps its default mode
    }
    renameSync(out.temp!, out.path);
    live.delete(out.temp!);
    out.temp = null;
    out.done = true;
  } catch (e) {
    discardOutputs([out]);
    throw new UsageError(`${out.flag} ${out.given}: not written (${fsMessage(e)}); the old file, if any, is unchanged`);
  }
}

/** Remove the temporary files of outputs not (or no longer) to be written. */
export function discardOutputs(outs: Output[]): void {
  for (const o of outs) {
    if (o.fd >= 0) {
      try {
        closeSync(o.fd);
      } catch {
        // already closed
      }
      o.fd = -1;
    }
    if (o.temp !== null) {
      try {
        unlinkSync(o.temp);
      } catch {
        // already gone
      }
      live.delete(o.temp);
      o.temp = null;
    }
    o.done = true;
  }
}

/**
 * The files of an input folder (a run folder, a sweep's --out folder) and of its subfolders, a few levels down:
 * the inputs an output must not be, whichever of them the command reads.
 */
export function folderInputs(dir: string, depth = 3): string[] {
  const files: string[] = [];
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return files; // not there (yet), or unreadable: the command itself says so
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (depth > 1) files.push(...folderInputs(p, depth - 1));
    } else {
      files.push(p);
    }
  }
  return files;
}
