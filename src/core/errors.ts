// Typed errors: every bad input names what was wrong. State is never changed by a call that throws.

export type SimErrorCode =
  | 'NOT_ALLOCATED' // free of a pfn that is not the head of an allocated block (includes double free)
  | 'WRONG_ORDER' // free with an order that differs from the allocation's
  | 'BAD_ORDER' // order outside 0..10
  | 'MISALIGNED' // pfn not aligned to 2^order
  | 'PFN_OUT_OF_RANGE' // pfn outside the guest
  | 'PFN_IN_HOLE' // pfn in a hole (not present)
  | 'BAD_MIGRATETYPE'
  | 'BAD_ZONE'
  | 'BAD_CPU'
  | 'NOT_FREE' // isolate of a pfn that is not a free head of that order
  | 'NOT_INFLIGHT' // putback of a block that is not isolated
  | 'BAD_CONFIG' // zones overlap, hold no pages, unknown profile...
  | 'TOO_LARGE' // a guest, a run or a grid that does not fit in memory or time (the estimate and the limit are named)
  | 'BAD_STATE' // an operation not allowed in the current state (e.g. cycle step without begin)
  | 'PARSE' // malformed input file
  | 'BAD_ARGUMENT' // an API argument of the wrong type, not a finite integer, or outside its range
  | 'DEVICE'; // device misbehaviour

export class SimError extends Error {
  readonly code: SimErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: SimErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'SimError';
    this.code = code;
    this.details = details;
  }
}

/** A broken invariant: the simulator itself is wrong (or memory was corrupted from outside). */
export class InvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantError';
  }
}

/** An importer's text argument: a string, or a SimError saying what came instead. */
export function checkText(fn: string, text: unknown): void {
  if (typeof text !== 'string') throw new SimError('BAD_ARGUMENT', `${fn}: expected the file's text as a string, got ${text === null ? 'null' : typeof text}`, { field: 'text' });
}

/** Malformed input file: names the file, line and field. */
export class ParseError extends SimError {
  constructor(file: string, line: number, message: string, details: Record<string, unknown> = {}) {
    super('PARSE', `${file}:${line}: ${message}`, { file, line, ...details });
    this.name = 'ParseError';
  }
}
