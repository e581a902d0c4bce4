// The plain TypeScript reference model of the buddy allocator beneath free page reporting, written to be trusted
// by reading. Its files follow assembly/'s, one rule in one function under the same name on both sides (the kernel's
// name in camelCase; docs/engine-rules.md has the table): state.ts (what assembly/ keeps in linear memory and
// globals), page.ts, freelist.ts (the only code that touches free lists, nr_free, NR_FREE_PAGES and Reported),
// buddy.ts, alloc.ts, pcp.ts, isolate.ts, reporting.ts, check.ts, guest.ts (boot and the validated operations).
export { ReferenceAllocator, type FreeRangeOptions } from './guest.js';
