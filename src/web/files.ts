// Files the user drops on the page or picks: single files, a folder (drag and drop walks it), or a zip of a run
// folder (unpacked with fflate). Paths keep their folders so a run folder's guest/ files are recognised.
import { unzipSync } from 'fflate';
import type { DroppedFile } from './import.js';

/** Unpack zips; leave other files as they are. */
export function expandZips(files: DroppedFile[]): DroppedFile[] {
  return files.flatMap((f) => {
    if (!/\.zip$/i.test(f.path)) return [f];
    let entries: Record<string, Uint8Array>;
    try {
      entries = unzipSync(f.bytes);
    } catch (e) {
      throw new Error(`${f.path}: not a zip archive fflate can read (${(e as Error).message})`);
    }
    return Object.entries(entries)
      .filter(([path, bytes]) => !path.endsWith('/') && !path.startsWith('__MACOSX/') && bytes.length > 0)
      .map(([path, bytes]) => ({ path, bytes }));
  });
}

async function readFile(file: File, path: string): Promise<DroppedFile> {
  return { path, bytes: new Uint8Array(await file.arrayBuffer()) };
}

/** Every file under a dropped directory entry. */
async function walk(entry: FileSystemEntry, prefix: string, out: Promise<DroppedFile>[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((ok, fail) => (entry as FileSystemFileEntry).file(ok, fail));
    out.push(readFile(file, prefix + entry.name));
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries answers in chunks until it returns none.
  for (;;) {
    const chunk = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
    if (!chunk.length) break;
    for (const e of chunk) await walk(e, `${prefix}${entry.name}/`, out);
  }
}

export async function filesFromDrop(dt: DataTransfer): Promise<DroppedFile[]> {
  const out: Promise<DroppedFile>[] = [];
  const entries = [...dt.items].map((i) => (i.kind === 'file' ? i.webkitGetAsEntry?.() ?? null : null));
  if (entries.length && entries.every((e) => e !== null)) {
    for (const e of entries) await walk(e!, '', out);
  } else {
    for (const f of [...dt.files]) out.push(readFile(f, f.name));
  }
  return expandZips(await Promise.all(out));
}

export async function filesFromInput(list: FileList): Promise<DroppedFile[]> {
  return expandZips(await Promise.all([...list].map((f) => readFile(f, f.webkitRelativePath || f.name))));
}
