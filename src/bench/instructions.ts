// Instructions per W1 step, counted with valgrind's callgrind: a figure that, unlike nanoseconds, does not move
// with the speed of a shared machine. Each side runs W1 twice (1M and 5M steps) and the difference is divided by
// 4M, so start-up, compilation and boot cancel out. The wasm side runs with --no-liftoff: the timed runs of
// `prsim bench` execute TurboFan code (after a warm-up), and a single long w1Run call would otherwise stay in the
// baseline tier, as V8 does not replace a running wasm frame.
import { execFileSync, spawnSync } from 'node:child_process';
import { WasmGuest } from '../core/guest.js';
import { w1Config } from './w1.js';
import { compileNativeW1, type NativeBuild } from './native.js';
import { pathToFileURL } from 'node:url';
import { w1GuestSpec } from './subject.js';

const SHORT = 1_000_000, LONG = 5_000_000;

export function hasValgrind(): boolean {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function collected(cmd: string[]): number {
  const r = run(cmd);
  if (r.status !== 0) throw new Error(`valgrind ${cmd.join(' ')} exited with ${r.status}:\n${r.stderr.slice(-500)}`);
  return parse(r.stderr);
}

function run(cmd: string[]) {
  return spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', ...cmd], {
    encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 24,
  });
}

/** The total instruction count from callgrind's summary line ("Collected : N", with or without separators). */
export function parse(stderr: string): number {
  const m = /Collected\s*:\s*([\d,]+)/.exec(stderr);
  if (!m) throw new Error(`callgrind printed no "Collected" line:\n${stderr.slice(-500)}`);
  return Number(m[1]!.replaceAll(',', ''));
}

/** What `prsim bench --w1-once OPS` runs in the child: one W1 on the wasm core, seed 1, N = 2^20. */
export function w1Once(ops: number): void {
  const g = new WasmGuest(w1Config(2 ** 20));
  g.boot();
  g.w1Run(1, ops);
}

export interface W1Instructions {
  wasm: number;
  native: number | null;
  /** The flags of the native build that was counted (see nativeCountable). */
  nativeFlags: string[] | null;
}

/**
 * The native build valgrind can run. Valgrind 3.19 does not decode AVX-512 (EVEX) instructions, which
 * -march=native emits on machines that have them (gcc vectorises the start-up loops with them): the build is then
 * counted with the same flags plus -mno-avx512f, whose W1 loop is the same scalar code.
 */
function nativeCountable(build: NativeBuild): NativeBuild | null {
  if (run([build.bin, '20', '1000', '1']).status === 0) return build;
  if (!build.flags.includes('-march=native')) return null;
  return compileNativeW1('bench/native/w1.c', [[...build.flags, '-mno-avx512f']], '-counted');
}

/** Instructions per W1 step of a subject's wasm core (TurboFan code): this build, or a baseline's bundle. */
export function w1WasmInstructions(cliPath: string, modulePath: string | null): number {
  const flags = [process.execPath, '--single-threaded', '--no-liftoff'];
  // A baseline runs the same W1 through its own library (its CLI may predate --w1-once).
  const script = (ops: number) => `const m = await import(${JSON.stringify(pathToFileURL(modulePath ?? '').href)});
const g = new m.WasmGuest(m.resolveGuest(${JSON.stringify(w1GuestSpec(2 ** 20))}));
g.boot();
g.w1Run(1, ${ops});`;
  const cmd = (ops: number) => modulePath
    ? [...flags, '--input-type=module', '-e', script(ops)]
    : [...flags, cliPath, 'bench', '--w1-once', String(ops)];
  return (collected(cmd(LONG)) - collected(cmd(SHORT))) / (LONG - SHORT);
}

/** Instructions per W1 step of the wasm core (TurboFan) and of the native build; null without valgrind. */
export function w1Instructions(cliPath: string, nativeBuild: NativeBuild | null): W1Instructions | null {
  if (!hasValgrind()) return null;
  const wasm = w1WasmInstructions(cliPath, null);
  let native: number | null = null;
  let nativeFlags: string[] | null = null;
  const counted = nativeBuild ? nativeCountable(nativeBuild) : null;
  if (counted) {
    const cmd = (ops: number) => [counted.bin, '20', String(ops), '1'];
    native = (collected(cmd(LONG)) - collected(cmd(SHORT))) / (LONG - SHORT);
    nativeFlags = counted.flags;
  }
  return { wasm, native, nativeFlags };
}
