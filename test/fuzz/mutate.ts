// A small mutation fuzzer: real input files changed the ways real files go wrong (a truncated write, a line lost
// or doubled, a number out of range or not a number, a stray byte, a column too many, CRLF, a BOM) and the ways a
// hostile file might be built (huge numbers, deep nesting, NaN-like tokens). Seeded, so every case can be replayed
// from its seed and index (printed when a case fails).
import { Mulberry32 } from '../../src/clock/rng.js';

export class Rng {
  private r: Mulberry32;
  constructor(seed: number) {
    this.r = new Mulberry32(seed);
  }
  int(n: number): number {
    return n <= 0 ? 0 : this.r.next() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.r.float() < p;
  }
}

/** Numbers that break parsers and simulators: boundaries of every integer width, non-finite, fractions, huge. */
export const INTERESTING_NUMBERS = [
  '0', '1', '-1', '2', '7', '9', '10', '11', '12', '31', '32', '63', '64', '255', '256', '511', '512', '4095', '4096',
  '65535', '65536', '2147483647', '2147483648', '-2147483648', '4294967295', '4294967296', '9007199254740991',
  '9007199254740993', '18446744073709551615', '1e308', '1e400', '-1e400', '1e-400', '0.5', '-0.5', '1.5', '3.14159',
  '0x10', '0xffffffff', '0x999999999999', '1e6', '1e9', '1e12', '00', '-0', '+1', '.5', '5.', 'NaN', 'Infinity',
  '-Infinity', '', '1_000', '١٢٣',
];
const INTERESTING_TOKENS = ['null', 'true', '"x"', '[]', '{}', '-', ':', ',', '(', ')', '\t', ' ', '\\', '"', '#', '\u0000', '\uFEFF', '\r', 'é'];

export interface Mutation {
  text: string;
  what: string;
}

const NUMBER = /-?(0x[0-9a-fA-F]+|\d+(\.\d+)?([eE][-+]?\d+)?)/g;

/** One to three random mutations of a text file. */
export function mutateText(rng: Rng, text: string): Mutation {
  let t = text;
  const whats: string[] = [];
  const rounds = 1 + rng.int(3);
  for (let k = 0; k < rounds; k++) {
    const lines = t.split('\n');
    const op = rng.int(13);
    const li = rng.int(lines.length);
    switch (op) {
      case 0: { // a number replaced by an interesting one
        const nums = [...t.matchAll(NUMBER)];
        if (!nums.length) break;
        const m = rng.pick(nums);
        const v = rng.pick(INTERESTING_NUMBERS);
        t = t.slice(0, m.index) + v + t.slice(m.index! + m[0].length);
        whats.push(`number ${m[0]} at ${m.index} -> '${v}'`);
        break;
      }
      case 1: // a line lost
        lines.splice(li, 1);
        t = lines.join('\n');
        whats.push(`line ${li + 1} deleted`);
        break;
      case 2: // a line doubled
        lines.splice(li, 0, lines[li] ?? '');
        t = lines.join('\n');
        whats.push(`line ${li + 1} doubled`);
        break;
      case 3: { // two lines swapped
        const lj = rng.int(lines.length);
        [lines[li], lines[lj]] = [lines[lj]!, lines[li]!];
        t = lines.join('\n');
        whats.push(`lines ${li + 1} and ${lj + 1} swapped`);
        break;
      }
      case 4: { // truncated (a write cut short)
        const at = rng.int(t.length + 1);
        t = t.slice(0, at);
        whats.push(`truncated at ${at}`);
        break;
      }
      case 5: { // a stray token
        const at = rng.int(t.length + 1);
        const tok = rng.pick([...INTERESTING_TOKENS, ...INTERESTING_NUMBERS]);
        t = t.slice(0, at) + tok + t.slice(at);
        whats.push(`inserted ${JSON.stringify(tok)} at ${at}`);
        break;
      }
      case 6: { // a byte replaced
        const at = rng.int(t.length);
        const c = String.fromCharCode(rng.int(128));
        t = t.slice(0, at) + c + t.slice(at + 1);
        whats.push(`char ${at} -> ${JSON.stringify(c)}`);
        break;
      }
      case 7: // a column too many or too few
        if (rng.chance(0.5)) lines[li] = `${lines[li]} ${rng.pick(INTERESTING_NUMBERS)}`;
        else lines[li] = (lines[li] ?? '').replace(/\s*\S+\s*$/, '');
        t = lines.join('\n');
        whats.push(`line ${li + 1} columns changed`);
        break;
      case 8: // line endings, BOM
        t = rng.chance(0.5) ? t.replace(/\n/g, '\r\n') : `\uFEFF${t}`;
        whats.push('CRLF or BOM');
        break;
      case 9: // empty, or whitespace only
        t = rng.pick(['', '\n', ' \n\n', '\0']);
        whats.push('emptied');
        break;
      case 10: { // a block of lines repeated many times (a large file)
        const n = 1 + rng.int(3);
        const block = lines.slice(li, li + n).join('\n');
        lines.splice(li, 0, ...Array.from({ length: 50 + rng.int(500) }, () => block));
        t = lines.join('\n');
        whats.push(`lines ${li + 1}..${li + n} repeated`);
        break;
      }
      case 11: { // a word in a line replaced by another line's word
        const words = t.split(/(\s+)/);
        const a = rng.int(words.length), b = rng.int(words.length);
        words[a] = words[b]!;
        t = words.join('');
        whats.push(`word ${a} -> word ${b}`);
        break;
      }
      default: { // every number of one line scaled (a unit mix-up)
        lines[li] = (lines[li] ?? '').replace(/\d+/g, (d) => String(Number(d) * rng.pick([0, 2, 1000, 4096, 2 ** 20])));
        t = lines.join('\n');
        whats.push(`line ${li + 1} numbers scaled`);
      }
    }
  }
  return { text: t, what: whats.join('; ') };
}

/** Mutations of a binary file (kpageflags dumps). */
export function mutateBytes(rng: Rng, bytes: Uint8Array): { bytes: Uint8Array; what: string } {
  const op = rng.int(6);
  const b = bytes.slice();
  switch (op) {
    case 0: {
      const n = 1 + rng.int(64);
      for (let i = 0; i < n; i++) {
        const at = rng.int(b.length);
        b[at] = b[at]! ^ (1 << rng.int(8));
      }
      return { bytes: b, what: `${n} bits flipped` };
    }
    case 1: {
      const at = rng.int(b.length + 1);
      return { bytes: b.slice(0, at), what: `truncated at ${at}` };
    }
    case 2: {
      const at = rng.int(b.length >> 3) << 3, n = rng.int(4096);
      for (let i = at; i < Math.min(b.length, at + n * 8); i += 8) b[i + 1] = 0xff; // KPF_BUDDY and its neighbours
      return { bytes: b, what: `${n} pfns from ${at >> 3} marked buddy` };
    }
    case 3:
      return { bytes: new Uint8Array(rng.pick([0, 1, 7, 8, 9])), what: 'tiny' };
    case 4:
      return { bytes: b.fill(0xff), what: 'all ones' };
    default: {
      const at = rng.int(b.length);
      return { bytes: Uint8Array.from([...b.subarray(0, at), 0x1f, 0x8b, ...b.subarray(at)]), what: `gzip magic inserted at ${at}` };
    }
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const JSON_VALUES: Json[] = [
  0, -1, 1, 0.5, 1.5, 11, 12, 64, 65, 255, 256, 2 ** 31, 2 ** 32, 2 ** 53, 1e12, 1e300, -1e300, 1e-300, 512.001,
  null, true, false, '', 'x', 'none', 'linux-6.1', 'hinting', 'bogus', '__proto__', 'toString', [], [1], {}, { kind: 'bogus' },
];

function paths(v: Json, at: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

/** Structural mutations of a JSON document (a scenario): values replaced, keys removed or invented, nesting. */
export function mutateJson(rng: Rng, doc: Json): Mutation {
  const d = structuredClone(doc);
  const whats: string[] = [];
  const rounds = 1 + rng.int(3);
  let root: Json = d;
  for (let k = 0; k < rounds; k++) {
    const all = paths(root);
    const p = rng.pick(all);
    const op = rng.int(6);
    if (!p.length) {
      if (op === 0) {
        root = rng.pick(JSON_VALUES);
        whats.push('document replaced');
      }
      continue;
    }
    let parent: any = root;
    for (const key of p.slice(0, -1)) parent = parent[key];
    const last = p[p.length - 1]!;
    const where = p.join('.');
    if (op <= 2) {
      const v = rng.pick(JSON_VALUES);
      const cur = parent[last];
      // A number is scaled as often as replaced: in-range changes find the subtler bugs.
      parent[last] = typeof cur === 'number' && rng.chance(0.5) ? cur * rng.pick([0, -1, 0.5, 2, 10, 1000, 1e6]) : structuredClone(v);
      whats.push(`${where} = ${JSON.stringify(parent[last])}`);
    } else if (op === 3) {
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete parent[last];
      whats.push(`${where} removed`);
    } else if (op === 4) {
      const cur = parent[last];
      if (Array.isArray(cur)) {
        const n = rng.pick([2, 10, 100]);
        for (let i = 0; i < n && cur.length < 200; i++) cur.push(structuredClone(cur[rng.int(cur.length)] ?? 1));
        whats.push(`${where} grown`);
      } else if (cur !== null && typeof cur === 'object') {
        cur[rng.pick(['extra', 'kind', 'tickMs', 'stepMs', 'cpu', 'order', 'sweep'])] = rng.pick(JSON_VALUES);
        whats.push(`${where} got a key`);
      }
    } else if (rng.chance(0.2)) {
      // Deeper than any recursive walk survives: spliced in as text after the document is written.
      parent[last] = DEEP;
      whats.push(`${where} nested 100000 deep`);
    } else {
      let v: Json = rng.pick(JSON_VALUES);
      const depth = rng.pick([3, 40, 70, 1000]);
      for (let i = 0; i < depth; i++) v = rng.chance(0.5) ? [v] : { a: v };
      parent[last] = v;
      whats.push(`${where} nested ${depth} deep`);
    }
  }
  const deep = rng.chance(0.5) ? `${'['.repeat(100000)}${']'.repeat(100000)}` : `${'{"a":'.repeat(100000)}1${'}'.repeat(100000)}`;
  return { text: JSON.stringify(root).replaceAll(JSON.stringify(DEEP), deep), what: whats.join('; ') };
}

const DEEP = '\u0000deep\u0000';
