// The one file that touches the WebAssembly instance: compiling the module, instantiating one instance per
// guest, typed access to its exports and views of its linear memory. Views are re-created whenever memory has
// grown (a grow detaches every ArrayBuffer view), so callers always get live views.
//
// The module imports its linear memory. A guest that is done (WasmGuest.release, which Simulation.dispose and
// simulate() call) hands its memory back to a small pool, and the next guest needing the same size gets it with a
// fresh instance: the memory's pages are already mapped, where a new memory costs a page fault for every 4 KiB
// the guest touches (about 100 ms for a 64 GiB guest on the development machine). Every region is rewritten
// before it is read (setup and initMemory), so nothing of the previous guest shows through.
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

function wasmModule(flavour: WasmFlavour = defaultFlavour()): WebAssembly.Module {
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

const memoryPool: WebAssembly.Memory[] = [];
/** At most this many memories wait in the pool, none above POOL_MAX_BYTES (a huge guest's memory is let go). */
const POOL_SIZE = 4;
const POOL_MAX_BYTES = 2 ** 30;

/** A memory of exactly `bytes` (rounded up to 64 KiB pages) from the pool, or null. */
function takeMemory(bytes: number): WebAssembly.Memory | null {
  const want = Math.ceil(bytes / 65536) * 65536;
  const i = memoryPool.findIndex((m) => m.buffer.byteLength === want);
  return i >= 0 ? memoryPool.splice(i, 1)[0]! : null;
}

/** Memories waiting in the pool (for tests and memory accounting). */
export function pooledMemories(): number {
  return memoryPool.length;
}

/**
 * The linear memory as its readers see it. Written out rather than WebAssembly.Memory so the shipped declarations
 * need no DOM lib: a Node program type-checked with lib es2022 and @types/node (which has no WebAssembly namespace)
 * reads them without skipLibCheck.
 */
export interface LinearMemory {
  readonly buffer: ArrayBuffer;
  grow(delta: number): number;
}

const released: Raw = new Proxy({}, {
  get(_, name) {
    throw new Error(`wasm core: ${String(name)} called on a released guest (its memory now serves another guest)`);
  },
});

/** One wasm instance: one guest's memory. */
export class CoreInstance {
  x: Raw;
  private mem: WebAssembly.Memory | null;
  /** The memory is new (all zero) and nothing has been written to it since setup. */
  private fresh: boolean;
  private buf: ArrayBuffer | null = null;
  private u8v!: Uint8Array;
  private u32v!: Uint32Array;
  private i32v!: Int32Array;

  /** `bytes`: the linear memory the guest will need, to take a pooled memory of that size (0: a new one). */
  constructor(flavour?: WasmFlavour, bytes = 0) {
    const pooled = bytes > 0 ? takeMemory(bytes) : null;
    this.fresh = pooled === null;
    this.mem = pooled ?? new WebAssembly.Memory({ initial: 1 });
    const inst = new WebAssembly.Instance(wasmModule(flavour), { env: { memory: this.mem } });
    this.x = inst.exports as Raw;
  }

  /** True the first time only, when the memory is new (all zero). */
  takeFresh(): boolean {
    const f = this.fresh;
    this.fresh = false;
    return f;
  }

  get memory(): LinearMemory {
    if (!this.mem) throw new Error('wasm core: memory of a released guest');
    return this.mem;
  }

  /** Give the memory back to the pool; this instance is unusable afterwards. */
  release(): void {
    const m = this.mem;
    if (!m) return;
    this.mem = null;
    this.buf = null;
    this.u8v = this.u32v = this.i32v = undefined as never; // the views would still see the pooled memory
    this.x = released;
    if (m.buffer.byteLength > POOL_MAX_BYTES) return;
    if (memoryPool.length >= POOL_SIZE) memoryPool.shift();
    memoryPool.push(m);
  }

  private refresh(): void {
    if (this.buf !== this.memory.buffer) {
      this.buf = this.memory.buffer;
      this.u8v = new Uint8Array(this.buf);
      this.u32v = new Uint32Array(this.buf);
      this.i32v = new Int32Array(this.buf);
    }
  }
  // A grow detaches the old buffer, and a detached view has length 0: that test is a property read, where asking
  // the memory for its buffer is a call into the engine (these getters run after every simulation event).
  get u8(): Uint8Array { if (!this.u8v?.length) this.refresh(); return this.u8v; }
  get u32(): Uint32Array { if (!this.u32v?.length) this.refresh(); return this.u32v; }
  get i32(): Int32Array { if (!this.i32v?.length) this.refresh(); return this.i32v; }

  /** A wasm global (exported `let`), as an unsigned number. */
  global(name: string): number {
    return (this.x[name] as WebAssembly.Global).value >>> 0;
  }
  globalSigned(name: string): number {
    return (this.x[name] as WebAssembly.Global).value | 0;
  }
}
