// The batch API: the caller fills Op records in linear memory and applies thousands in one call.
// Op: kind u32, a u32, b u32, result i32 (written back). Errors are per operation and change nothing.
import {
  OPS_START, OP_SIZE, OP_ALLOC, OP_FREE, OP_TOUCH, OP_FREE_RANGE, E_BAD_OP,
} from './layout';
import { alloc, free, freeRange } from './guest';
import { hostTouch } from './host';
import { setCurrentOp, resetFirstNotifyOp } from './state';

/** Apply ops [0, n); returns how many failed (error or allocation failure). */
export function applyOps(n: u32): u32 {
  let failed: u32 = 0;
  resetFirstNotifyOp();
  for (let i: u32 = 0; i < n; i++) {
    const op = <usize>OPS_START + <usize>(i * OP_SIZE);
    const kind = load<u32>(op);
    const a = load<u32>(op, 4);
    const b = load<u32>(op, 8);
    setCurrentOp(<i32>i);
    let r: i32 = 0;
    if (kind == OP_ALLOC) r = alloc(a & 0xff, (a >> 8) & 0xff, (a >> 16) & 0xff, a >> 24);
    else if (kind == OP_FREE) r = free(a, b & 0xff, (b >> 8) & 0xff, b >> 24);
    else if (kind == OP_TOUCH) r = <i32>hostTouch(a, b);
    else if (kind == OP_FREE_RANGE) r = freeRange(a, b & 0xff, (b >> 8) & 0xff);
    else r = E_BAD_OP;
    if (r < 0) failed++;
    store<i32>(op, r, 12);
  }
  setCurrentOp(-1);
  return failed;
}
