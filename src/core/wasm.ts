// The one file that touches the WebAssembly instance: compiling the module, instantiating one instance per
// guest, typed access to its exports and views of its linear memory. Views are re-created whenever memory has
// grown (a grow detaches every ArrayBuffer view), so callers always get live views.
import releaseB64 from '../../build/release.wasm.b64.js';
import debugB64 from '../../build/debug.wasm.b64.js';

type Raw = Record<string, any>;

function decodeBase64(b64: string): Uint8Array {
  if (typeof Buffer !== 'undefined') return new Uint8Array(Buffer.from(b64, 'base64'));
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export type WasmFlavour = 'release' | 'debug';
const modules: Partial<Record<WasmFlavour, WebAssembly.Module>> = {};

function defaultFlavour(): WasmFlavour {
  const env = typeof process !== 'undefined' ? process.env?.PRSIM_WASM : undefined;
  return env === 'debug' ? 'debug' : 'release';
}

export function wasmModule(flavour: WasmFlavour = defaultFlavour()): WebAssembly.Module {
  let m = modules[flavour];
  if (!m) {
    m = new WebAssembly.Module(decodeBase64(flavour === 'debug' ? debugB64 : releaseB64) as BufferSource);
    modules[flavour] = m;
  }
  return m;
}

/** Size in bytes of the wasm module (the release build unless asked). */
export function wasmByteLength(flavour: WasmFlavour = 'release'): number {
  return decodeBase64(flavour === 'debug' ? debugB64 : releaseB64).length;
}

/** Named offsets of the layout (assembly/layout.ts), read from the module itself. */
export interface Layout {
  pagesStart: number; pageDescSize: number; freeListStart: number; nrFreeStart: number; pcpStart: number;
  pcpSize: number; pcpLists: number; pcpCount: number; batchStart: number; opsStart: number; opSize: number;
  opsCapacity: number; outStart: number; zonesStart: number; zoneSize: number; zoneNrFreePages: number;
  maxCapacity: number; nrPcpLists: number;
  /** Byte offsets inside a page descriptor: the next link, the state word (flags | order << 8 | mt << 16 | zone << 24). */
  pageNext: number; pageWord: number;
  /** The page's cold byte (pageExtStart + pfn): host state in extHostMask, the per-cpu list's cpu from extCpuShift. */
  extHostMask: number; extCpuShift: number;
  /** Word of OUT where sampleCounters writes. */
  outSample: number;
}
const LAYOUT_KEYS: Array<keyof Layout> = [
  'pagesStart', 'pageDescSize', 'freeListStart', 'nrFreeStart', 'pcpStart', 'pcpSize', 'pcpLists', 'pcpCount',
  'batchStart', 'opsStart', 'opSize', 'opsCapacity', 'outStart', 'zonesStart', 'zoneSize', 'zoneNrFreePages',
  'maxCapacity', 'nrPcpLists', 'pageNext', 'pageWord', 'extHostMask', 'extCpuShift', 'outSample',
];

/** One wasm instance: one guest's memory. */
export class CoreInstance {
  readonly x: Raw;
  readonly memory: WebAssembly.Memory;
  readonly layout: Layout;
  private buf: ArrayBuffer | null = null;
  private u8v!: Uint8Array;
  private u32v!: Uint32Array;
  private i32v!: Int32Array;

  constructor(flavour?: WasmFlavour) {
    const inst = new WebAssembly.Instance(wasmModule(flavour), {});
    this.x = inst.exports as Raw;
    this.memory = this.x.memory as WebAssembly.Memory;
    const l: Partial<Layout> = {};
    LAYOUT_KEYS.forEach((k, i) => (l[k] = this.x.layoutConstant(i) >>> 0));
    this.layout = l as Layout;
  }

  private refresh(): void {
    if (this.buf !== this.memory.buffer) {
      this.buf = this.memory.buffer;
      this.u8v = new Uint8Array(this.buf);
      this.u32v = new Uint32Array(this.buf);
      this.i32v = new Int32Array(this.buf);
    }
  }
  get u8(): Uint8Array { this.refresh(); return this.u8v; }
  get u32(): Uint32Array { this.refresh(); return this.u32v; }
  get i32(): Int32Array { this.refresh(); return this.i32v; }

  /** A wasm global (exported `let`), as an unsigned number. */
  global(name: string): number {
    return (this.x[name] as WebAssembly.Global).value >>> 0;
  }
  globalSigned(name: string): number {
    return (this.x[name] as WebAssembly.Global).value | 0;
  }
}
