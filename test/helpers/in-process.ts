// The prsim command line run in this process (main() with a memoryIo): its exit code and what it printed.
import { memoryIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/prsim.js';

export type MemoryIo = ReturnType<typeof memoryIo>;

/** `prsim ...argv` through `io` (a memoryIo, in the folder the test works in). */
export async function prsimWith(io: MemoryIo, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const code = await main(argv, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}
