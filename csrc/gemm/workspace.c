/*
 * GEMM's packing buffers, kept by each calling thread from one call to the next, as
 * BLIS keeps its packed blocks in pools and OpenBLAS in a buffer made once.  Allocated
 * and freed per call, buffers of a few hundred KiB are fresh pages every time (glibc
 * maps and unmaps them, or trims the heap they came from): each call faulted in and
 * zeroed its packed panels before using them.  Measured on Zen 4, one thread: dgemm
 * 256^3 41 -> 54 GFLOP/s, sgemm 256^3 90 -> 110, with the buffer kept.
 *
 * The buffer grows to the largest request its thread has made and no further: the
 * blocks it holds are sized from the caches (csrc/gemm/blocking.c), so it stays within
 * about L3 plus a team's L2s whatever the product.  A pthread key frees it when its
 * thread exits; the main thread's lives until the process ends.
 */
#include "workspace.h"

#include <pthread.h>
#include <stdlib.h>

static pthread_key_t owner;
static pthread_once_t owner_once = PTHREAD_ONCE_INIT;
static int owner_ok;
static _Thread_local void *held;
static _Thread_local size_t held_bytes;

static void make_owner(void) { owner_ok = pthread_key_create(&owner, free) == 0; }

void *nnk_gemm_workspace(size_t bytes)
{
  if (bytes <= held_bytes) return held;
  pthread_once(&owner_once, make_owner);
  if (!owner_ok) return NULL;
  bytes = (bytes + 63) / 64 * 64;
  void *p = aligned_alloc(64, bytes);
  if (!p || pthread_setspecific(owner, p) != 0) { /* the key still holds the old one */
    free(p);
    return NULL;
  }
  free(held);
  held = p, held_bytes = bytes;
  return p;
}
