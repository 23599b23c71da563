/*
 * Byte-pair encoding's merge loops (bpe.h).  Training counts every adjacent pair in an
 * open-addressing hash table sized to the sequence (a pair is one 64-bit key), takes the
 * most frequent, and rewrites the sequence with it merged; O(n) per merge, which trains
 * the shipped corpus to 512 tokens in milliseconds.  Encoding applies the merges in the
 * order they were learned, the same rewriting, so encode(training text) reproduces
 * training's own sequence.
 */
#include "bpe.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  uint64_t key; /* (first << 32 | second) + 1; 0: empty */
  size_t count;
} slot;

static uint64_t pair_key(int32_t a, int32_t b) { return ((uint64_t)(uint32_t)a << 32 | (uint32_t)b) + 1; }

static size_t hash(uint64_t k, size_t mask)
{
  k ^= k >> 33, k *= 0xff51afd7ed558ccdULL, k ^= k >> 33;
  return (size_t)k & mask;
}

/* ids[0..n) with every (a, b) replaced by `to`, left to right; the new length. */
static size_t merge_pair(int32_t *ids, size_t n, int32_t a, int32_t b, int32_t to)
{
  size_t w = 0;
  for (size_t r = 0; r < n; r++)
    if (r + 1 < n && ids[r] == a && ids[r + 1] == b) ids[w++] = to, r++;
    else ids[w++] = ids[r];
  return w;
}

nnk_status nnk_bpe_train(int32_t *ids, size_t *n, size_t merges, int32_t *pairs, size_t *done)
{
  size_t cap = 16;
  while (cap < 2 * *n) cap *= 2;
  slot *table = malloc(cap * sizeof *table);
  if (!table) return NNK_ENOMEM;
  *done = 0;
  for (size_t m = 0; m < merges && *n >= 2; m++) {
    memset(table, 0, cap * sizeof *table);
    uint64_t best = 0;
    size_t best_count = 0;
    for (size_t i = 0; i + 1 < *n; i++) {
      uint64_t k = pair_key(ids[i], ids[i + 1]);
      size_t h = hash(k, cap - 1);
      while (table[h].key && table[h].key != k) h = (h + 1) & (cap - 1);
      table[h].key = k;
      size_t c = ++table[h].count;
      if (c > best_count || (c == best_count && k < best)) best = k, best_count = c;
    }
    int32_t a = (int32_t)((best - 1) >> 32), b = (int32_t)(uint32_t)(best - 1);
    pairs[2 * m] = a, pairs[2 * m + 1] = b;
    *n = merge_pair(ids, *n, a, b, 256 + (int32_t)m);
    *done = m + 1;
  }
  free(table);
  return NNK_OK;
}

void nnk_bpe_encode(int32_t *ids, size_t *n, const int32_t *pairs, size_t merges)
{
  for (size_t m = 0; m < merges && *n >= 2; m++)
    *n = merge_pair(ids, *n, pairs[2 * m], pairs[2 * m + 1], 256 + (int32_t)m);
}
