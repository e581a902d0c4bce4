// Layout constants the TypeScript binding needs, by number, so no offset is written twice.
import {
  PAGES_START, PAGE_DESC_SIZE, FREE_LIST_START, NR_FREE_START, PCP_START, PCP_SIZE, PCP_LISTS, PCP_COUNT,
  BATCH_START, OPS_START, OP_SIZE, OPS_CAPACITY, OUT_START, ZONES_START, ZONE_SIZE, ZONE_NR_FREE_PAGES,
  MAX_CAPACITY, NR_PCP_LISTS, PAGE_NEXT, PAGE_WORD, EXT_HOST_MASK, EXT_CPU_SHIFT, OUT_SAMPLE, OUT_NOTIFY,
} from './layout';

export function layoutConstant(i: u32): u32 {
  switch (i) {
    case 0: return PAGES_START;
    case 1: return PAGE_DESC_SIZE;
    case 2: return FREE_LIST_START;
    case 3: return NR_FREE_START;
    case 4: return PCP_START;
    case 5: return PCP_SIZE;
    case 6: return PCP_LISTS;
    case 7: return PCP_COUNT;
    case 8: return BATCH_START;
    case 9: return OPS_START;
    case 10: return OP_SIZE;
    case 11: return OPS_CAPACITY;
    case 12: return OUT_START;
    case 13: return ZONES_START;
    case 14: return ZONE_SIZE;
    case 15: return ZONE_NR_FREE_PAGES;
    case 16: return MAX_CAPACITY;
    case 17: return NR_PCP_LISTS;
    case 18: return PAGE_NEXT;
    case 19: return PAGE_WORD;
    case 20: return EXT_HOST_MASK;
    case 21: return EXT_CPU_SHIFT;
    case 22: return OUT_SAMPLE;
    case 23: return OUT_NOTIFY;
    default: return 0xffffffff;
  }
}
