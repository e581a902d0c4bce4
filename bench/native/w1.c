/*
 * W1 `churn` (../shared/docs/benchmarks.md) in plain C, for calibration only: the same stream, the same result
 * line, over the same design as the wasm core (12-byte page descriptors, pfn-linked free lists, head/tail
 * insertion, buddy_merge_likely placement, expand to the head, tail boot), reduced to what W1 exercises: one zone,
 * one migratetype, no per-cpu lists, watermarks 0. `prsim bench` compiles and runs it when a C compiler is found,
 * to report the wasm/native ratio measured side by side.
 *   usage: w1 LOG2N OPS SEED
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NIL 0xffffffffu
typedef struct { uint32_t next, prev; uint8_t flags, order, mt, zone; } page_t; /* 12 bytes, as assembly/layout.ts */

static page_t *pg;
static uint32_t head[11], tail[11], nr_free[11], n_pages;
static int64_t free_pages;

static void add(uint32_t p, uint32_t o, int to_tail) {
  pg[p].flags = 1; pg[p].order = (uint8_t)o;
  if (to_tail) {
    pg[p].prev = tail[o]; pg[p].next = NIL;
    if (tail[o] != NIL) pg[tail[o]].next = p; else head[o] = p;
    tail[o] = p;
  } else {
    pg[p].next = head[o]; pg[p].prev = NIL;
    if (head[o] != NIL) pg[head[o]].prev = p; else tail[o] = p;
    head[o] = p;
  }
  nr_free[o]++;
}

static void del(uint32_t p, uint32_t o) {
  uint32_t a = pg[p].prev, b = pg[p].next;
  if (a != NIL) pg[a].next = b; else head[o] = b;
  if (b != NIL) pg[b].prev = a; else tail[o] = a;
  pg[p].flags = 0; nr_free[o]--;
}

static int is_buddy(uint32_t p, uint32_t o) { return pg[p].flags == 1 && pg[p].order == o; }

static void free_one(uint32_t p, uint32_t o, int to_tail) {
  free_pages += 1 << o;
  while (o < 10) {
    uint32_t b = p ^ (1u << o);
    if (b >= n_pages || !is_buddy(b, o)) break;
    del(b, o); p &= b; o++;
  }
  if (!to_tail && o < 9) {
    uint32_t hb = (p & ~(1u << o)) ^ (1u << (o + 1));
    to_tail = hb < n_pages && is_buddy(hb, o + 1);
  }
  add(p, o, to_tail);
}

static uint32_t alloc(uint32_t o) {
  if (free_pages - ((1 << o) - 1) <= 0) return NIL;
  for (uint32_t c = o; c <= 10; c++) {
    uint32_t p = head[c];
    if (p == NIL) continue;
    del(p, c);
    while (c > o) { c--; add(p + (1u << c), c, 0); }
    pg[p].flags = 4; pg[p].order = (uint8_t)o;
    free_pages -= 1 << o;
    return p;
  }
  return NIL;
}

static uint32_t s;
static uint32_t rnd(void) {
  s += 0x6D2B79F5u;
  uint32_t t = s;
  t = (t ^ (t >> 15)) * (t | 1);
  t ^= t + ((t ^ (t >> 7)) * (t | 61));
  return t ^ (t >> 14);
}

int main(int argc, char **argv) {
  static const uint32_t ORDERS[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 9};
  if (argc < 4) { fprintf(stderr, "usage: w1 LOG2N OPS SEED\n"); return 2; }
  n_pages = 1u << atoi(argv[1]);
  uint32_t ops = (uint32_t)strtoul(argv[2], 0, 10), seed = (uint32_t)strtoul(argv[3], 0, 10);
  pg = calloc(n_pages, sizeof(page_t));
  uint32_t *L = malloc(8 * (size_t)(n_pages / 2 + 2));
  /* Touch both arrays before the clock starts, as the wasm side has by then: page faults are not allocator work. */
  memset(pg, 0, (size_t)n_pages * sizeof(page_t));
  memset(L, 0, 8 * (size_t)(n_pages / 2 + 2));
  for (int i = 0; i < 11; i++) { head[i] = tail[i] = NIL; nr_free[i] = 0; }
  for (uint32_t p = 0; p < n_pages; p += 1024) free_one(p, 10, 1);
  uint32_t len = 0, allocated = 0, failures = 0;
  s = seed;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (uint32_t i = 0; i < ops; i++) {
    uint32_t r = rnd();
    if (allocated < n_pages / 2) {
      uint32_t o = ORDERS[r & 15], p = alloc(o);
      if (p != NIL) { L[2 * len] = p; L[2 * len + 1] = o; len++; allocated += 1u << o; }
      else failures++;
    } else {
      uint32_t k = rnd() % len, p = L[2 * k], o = L[2 * k + 1];
      pg[p].flags = 0;
      free_one(p, o, 0);
      len--; L[2 * k] = L[2 * len]; L[2 * k + 1] = L[2 * len + 1];
      allocated -= 1u << o;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  uint32_t sum = 0;
  for (uint32_t i = 0; i < len; i++) sum += L[2 * i];
  printf("%u %u %u %u %u %u", seed, n_pages, ops, failures, len, sum);
  for (int o = 0; o < 11; o++) printf(" %u", nr_free[o]);
  printf("\n%.3f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / ops);
  return 0;
}
