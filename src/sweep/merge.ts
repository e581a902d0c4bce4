// Merging a sweep folder: every rows file (any shards, any completion order) indexed by grid point, checked
// (every point exactly once, every row of this scenario and simulator version), then read back in index
// order. The index is 16 bytes per grid point (which file, where, how long), 16 MB for a million points; the
// rows themselves are read one at a time, so output of any length streams.
import { closeSync, openSync, readSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SimError } from '../core/errors.js';
import { forEachLine } from './files.js';
import { readFolder, rowsFiles, type SweepDef } from './folder.js';
import { parseRow, type SweepRow } from './row.js';

/** The largest grid a merge sorts (its index would pass 2 GiB beyond). */
export const MAX_MERGE_POINTS = 2 ** 27;
/** How many point numbers a message lists before "...". */
const LIST = 20;

export interface Duplicate {
  index: number;
  /** file:line of each copy. */
  where: string[];
}

export interface FolderIndex {
  dir: string;
  def: SweepDef;
  files: string[];
  fileOf: Int32Array;
  offset: Float64Array;
  length: Uint32Array;
  missing: number;
  /** Points found more than once with the same row (kept once). */
  duplicates: Duplicate[];
  duplicateCount: number;
  /** Rows files whose last line was cut short (a shard stopped while writing and was not resumed). */
  cutShort: string[];
  rows: number;
}

const listPoints = (xs: number[], total: number) => xs.join(', ') + (total > xs.length ? `, ... (${total} in all)` : '');

function readAt(fd: number, offset: number, length: number, buf: Buffer): string {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, offset + got);
    if (n === 0) break;
    got += n;
  }
  return buf.toString('utf8', 0, got);
}

/** Index the folder's rows; throws naming the missing points, differing duplicates or a foreign row. */
export function indexFolder(dir: string): FolderIndex {
  const def = readFolder(dir);
  if (def.points > MAX_MERGE_POINTS) {
    throw new SimError('BAD_CONFIG', `--merge ${dir}: ${def.points} grid points; merging sorts by index with 16 bytes per point and stops at ${MAX_MERGE_POINTS} points (merge the rows files yourself, e.g. with sort on "index")`, { dir });
  }
  const files = rowsFiles(dir);
  const fileOf = new Int32Array(def.points).fill(-1);
  const offset = new Float64Array(def.points);
  const length = new Uint32Array(def.points);
  const lineOf = new Uint32Array(def.points);
  const duplicates: Duplicate[] = [];
  const conflicts: string[] = [];
  let duplicateCount = 0;
  let conflictCount = 0;
  let rows = 0;
  const cutShort: string[] = [];
  const fds = files.map((f) => openSync(f, 'r'));
  let buf = Buffer.alloc(1 << 16);
  try {
    files.forEach((path, f) => {
      const { tail } = forEachLine(path, (text, info) => {
        const row = parseRow(text, path, info.line);
        if (row.scenarioHash !== def.hash) throw new SimError('PARSE', `${path}:${info.line}: scenarioHash: expected ${def.hash} (${join(dir, 'sweep.json')}), got ${JSON.stringify(row.scenarioHash)}`, { path, line: info.line });
        if (row.version !== def.version) throw new SimError('PARSE', `${path}:${info.line}: version: expected ${JSON.stringify(def.version)} (${join(dir, 'sweep.json')}), got ${JSON.stringify(row.version)}`, { path, line: info.line });
        if (row.index >= def.points) throw new SimError('PARSE', `${path}:${info.line}: index: expected 0..${def.points - 1}, got ${row.index}`, { path, line: info.line });
        rows++;
        const i = row.index;
        if (fileOf[i] === -1) {
          fileOf[i] = f;
          offset[i] = info.offset;
          length[i] = info.length;
          lineOf[i] = info.line;
          return;
        }
        const firstFile = fileOf[i]!;
        if (length[i]! > buf.length) buf = Buffer.alloc(length[i]! * 2);
        const first = readAt(fds[firstFile]!, offset[i]!, length[i]!, buf);
        const where = [`${basename(files[firstFile]!)}:${lineOf[i]}`, `${basename(path)}:${info.line}`];
        if (first === text) {
          duplicateCount++;
          if (duplicates.length < LIST) duplicates.push({ index: i, where });
        } else {
          conflictCount++;
          if (conflicts.length < LIST) conflicts.push(`point ${i} (${where.join(' and ')})`);
        }
      });
      if (tail) cutShort.push(`${basename(path)}:${tail.line}`);
    });
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  if (conflictCount) {
    throw new SimError('PARSE', `--merge ${dir}: ${conflictCount} point${conflictCount === 1 ? ' has' : 's have'} two different rows: ${conflicts.join(', ')}${conflictCount > conflicts.length ? ', ...' : ''}`, { dir });
  }
  const missingList: number[] = [];
  let missing = 0;
  for (let i = 0; i < def.points; i++) {
    if (fileOf[i] !== -1) continue;
    missing++;
    if (missingList.length < LIST) missingList.push(i);
  }
  if (missing) {
    const cut = cutShort.length ? `; ${cutShort.join(', ')} ${cutShort.length === 1 ? 'ends' : 'end'} in a line cut short` : '';
    throw new SimError('BAD_CONFIG', `--merge ${dir}: ${missing} of ${def.points} points have no row: ${listPoints(missingList, missing)} (run the shards that hold them again with --resume${cut})`, { dir, missing });
  }
  return { dir, def, files, fileOf, offset, length, missing, duplicates, duplicateCount, cutShort, rows };
}

/** "points 3 and 7 were found twice (identical rows, kept once): ...", or null. */
export function duplicateNote(idx: FolderIndex): string | null {
  if (!idx.duplicateCount) return null;
  const shown = idx.duplicates.map((d) => `${d.index} (${d.where.join(', ')})`).join('; ');
  return `${idx.duplicateCount} duplicate row${idx.duplicateCount === 1 ? '' : 's'} (identical, kept once): ${shown}${idx.duplicateCount > idx.duplicates.length ? '; ...' : ''}`;
}

/** The rows in index order: the line as written (for JSON output) and parsed. */
export function* rowsInOrder(idx: FolderIndex): Generator<{ text: string; row: SweepRow }> {
  const fds = idx.files.map((f) => openSync(f, 'r'));
  let buf = Buffer.alloc(1 << 16);
  try {
    for (let i = 0; i < idx.def.points; i++) {
      const len = idx.length[i]!;
      if (len > buf.length) buf = Buffer.alloc(len * 2);
      const text = readAt(fds[idx.fileOf[i]!]!, idx.offset[i]!, len, buf);
      yield { text, row: JSON.parse(text) as SweepRow };
    }
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}
