/*
 * The body of an x86 GEMM microkernel, written once and instantiated per ISA and dtype
 * (ukernel_avx2.c, ukernel_avx512.c): an MR x (2 vectors) tile of C in 2*MR vector
 * accumulators; per k step two loads of B, MR broadcasts of A, 2*MR FMAs.
 *
 * One body serves both forms: packed A (row i of step p at a[i + p*MR]) and direct A
 * (row i at a + i*rs_a, unit column stride, mb <= MR rows: missing rows repeat the last
 * real one and are not stored).  B is read row by row at stride rs_b (NR when packed).
 * The wrappers pass constants, so each form compiles to its own straight loop.
 *
 * A tile may also be narrower than NR (nb < NR: direct tiles, and packed edge tiles):
 * only the first nb columns of B are read and of C written, nothing past them
 * (NNK_DEFINE_TILE's mask forms).  A tile of at most one vector's width runs a
 * one-vector loop, so that an edge panel of 1-8 float32 columns (AVX2) costs half the
 * multiply-adds of a full one.
 *
 * Packed tiles prefetch, as BLIS's kernels do: C's rows (last touched a KC block ago)
 * at the start, so they arrive while the k loop runs, and A a few lines ahead.  A
 * tile may be given lines of memory to ask for into L2 (`ahead`, nnk_kernels.h),
 * one every few k steps: spread so, the requests wait on memory beside the FMAs, where
 * the same lines asked for between tiles held the loads of the tiles' own A and B
 * behind them (L1's miss buffers full: the tiles 8 % slower, for the 7 % of time the
 * packing of those lines saved).
 * A's values are broadcast with SET1(*p), not the broadcast intrinsics: the compiler
 * emits the same broadcast from memory, and the load is a plain C access that
 * AddressSanitizer checks (the builtins are opaque to it).
 */
#ifndef NNK_GEMM_UKERNEL_TILE_H
#define NNK_GEMM_UKERNEL_TILE_H

#include <immintrin.h>
#include <stddef.h>

#include "nnk_kernels.h"

#define NNK_TILE_INLINE static inline __attribute__((always_inline))

/* The cases of a switch on an edge's row count mb that call its own tile P##_r<mb>(...)
 * for mb = 1..5 (an ISA whose tiles are taller adds its own cases after these). */
#define NNK_TILE_ROWS_CASES(P, ...)                                                        \
  case 1: P##_r1(__VA_ARGS__); break;                                                      \
  case 2: P##_r2(__VA_ARGS__); break;                                                      \
  case 3: P##_r3(__VA_ARGS__); break;                                                      \
  case 4: P##_r4(__VA_ARGS__); break;                                                      \
  case 5: P##_r5(__VA_ARGS__); break;

/* A whole tile TILE(..., ahead) called as two copies: one asking ahead, and one whose k
 * loop, given NULL, is the same as without it (the asking's test folds away). */
#define NNK_TILE_ASKING(TILE, ahead, ...)                                                  \
  do {                                                                                     \
    if (ahead) TILE(__VA_ARGS__, ahead);                                                   \
    else TILE(__VA_ARGS__, NULL);                                                          \
  } while (0)

/* NNK_DEFINE_TILE's k loop over two vectors of columns, the second loaded by LOAD_B1 (the
 * first is whole wherever there is a second); variables from the tile's body. */
#define NNK_TILE_TWO_VECTORS(V, MR, PF, SET1, LOAD, FMADD, LOAD_B1)                       \
  for (size_t p = 0; p < kc; p++, b += rs_b) {                                             \
    V b0 = LOAD(b), b1 = LOAD_B1;                                                          \
    if (prefetch) _mm_prefetch((const char *)(ar[0] + (ptrdiff_t)p * cs_a + PF), _MM_HINT_T0); \
    if (ahead && --countdown == 0) countdown = ah.every, nnk_gemm_ask(&ah);               \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                 \
    {                                                                                     \
      V ai = SET1(ar[i][(ptrdiff_t)p * cs_a]);                                            \
      acc0[i] = FMADD(ai, b0, acc0[i]), acc1[i] = FMADD(ai, b1, acc1[i]);                 \
    }                                                                                     \
  }

/* The same over one vector of columns, loaded by LOAD_B0 (a tile of at most one vector's
 * width). */
#define NNK_TILE_ONE_VECTOR(V, MR, SET1, FMADD, LOAD_B0)                                   \
  for (size_t p = 0; p < kc; p++, b += rs_b) {                                             \
    V b0 = LOAD_B0;                                                                        \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                 \
      acc0[i] = FMADD(SET1(ar[i][(ptrdiff_t)p * cs_a]), b0, acc0[i]);                     \
  }

/* NAME(mb, nb, kc, alpha, a, rs_a, cs_a, b, rs_b, beta, c, rs_c, bias, prefetch, ahead).
 * A tile narrower than two vectors (nb < 2 LANES) reads and writes its nb columns only:
 *   MASK_T, MASK(n), LOADM(m, p), STOREM(p, m, v)   the first n lanes at p (n <= LANES):
 *                       a tile of one vector's width or less;
 *   LAST(p, nb, m1)     where the second vector of a row p of nb columns (LANES < nb <
 *                       2 LANES) lies, its lanes m1 = MASK(nb - LANES), and LOADL(m1, p),
 *                       STOREL(p, m1, v) its loads and stores there: AVX-512 masks it at
 *                       p + LANES; AVX2 takes the whole vector that ends at the row's
 *                       last column, p + nb - LANES, its first lanes the first vector's
 *                       last columns again, summed in the same order (the same bits,
 *                       stored twice), as a masked load would take a register that its
 *                       twelve accumulators need. */
#define NNK_DEFINE_TILE(NAME, T, V, MR, LANES, PF, SET1, LOAD, STORE, FMADD, MUL, ADD, ZERO, \
                        MASK_T, MASK, LOADM, STOREM, LAST, LOADL, STOREL)                 \
  NNK_TILE_INLINE void NAME(size_t mb, size_t nb, size_t kc, T alpha, const T *a,          \
                            ptrdiff_t rs_a, ptrdiff_t cs_a, const T *b, ptrdiff_t rs_b,     \
                            T beta, T *c, ptrdiff_t rs_c, const T *bias, int prefetch,     \
                            nnk_gemm_ahead *ahead)                                         \
  {                                                                                       \
    const T *ar[MR];                                                                      \
    nnk_gemm_ahead ah = ahead ? *ahead : (nnk_gemm_ahead){0};                             \
    size_t countdown = ah.every;                                                          \
    V acc0[MR], acc1[MR];                                                                 \
    const MASK_T m0 = MASK(nb < LANES ? nb : LANES), m1 = MASK(nb > LANES ? nb - LANES : 0); \
    const int two = nb > LANES;            /* the second vector of columns exists */     \
    const int full = nb == 2 * LANES;      /* whole vectors: plain loads, stores */       \
    (void)m1;                              /* unused where LAST overlaps */               \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                 \
    {                                                                                     \
      ar[i] = a + (ptrdiff_t)((size_t)i < mb ? (size_t)i : mb - 1) * rs_a;                \
      acc0[i] = ZERO(), acc1[i] = ZERO();                                                 \
      if (prefetch) {                                                                     \
        _mm_prefetch((const char *)(c + i * rs_c), _MM_HINT_T0);                          \
        _mm_prefetch((const char *)(c + i * rs_c + 2 * LANES - 1), _MM_HINT_T0);          \
      }                                                                                   \
    }                                                                                     \
    if (full)                                                                             \
      NNK_TILE_TWO_VECTORS(V, MR, PF, SET1, LOAD, FMADD, LOAD(b + LANES))                 \
    else if (two) /* the second vector partial: only the row's columns read */            \
      NNK_TILE_TWO_VECTORS(V, MR, PF, SET1, LOAD, FMADD, LOADL(m1, LAST(b, nb, m1)))      \
    else if (nb == LANES) /* one whole vector */                                         \
      NNK_TILE_ONE_VECTOR(V, MR, SET1, FMADD, LOAD(b))                                    \
    else                                                                                  \
      NNK_TILE_ONE_VECTOR(V, MR, SET1, FMADD, LOADM(m0, b))                               \
    if (ahead) *ahead = ah;                                                               \
    const V va = SET1(alpha), vb = SET1(beta);                                            \
    const int scale = alpha != 1, add = beta != 0; /* beta == 0 must not read C (NaN) */   \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                 \
    {                                                                                     \
      if ((size_t)i >= mb) break;                                                         \
      T *cr = c + i * rs_c;                                                               \
      V lo = acc0[i], hi = acc1[i];                                                       \
      if (scale) lo = MUL(va, lo), hi = MUL(va, hi);                                      \
      if (full) {                                                                         \
        if (add) lo = FMADD(vb, LOAD(cr), lo), hi = FMADD(vb, LOAD(cr + LANES), hi);      \
        if (bias) lo = ADD(lo, LOAD(bias)), hi = ADD(hi, LOAD(bias + LANES));             \
        STORE(cr, lo), STORE(cr + LANES, hi);                                             \
      } else if (two) { /* both of C's vectors loaded before either is stored */         \
        if (add) lo = FMADD(vb, LOAD(cr), lo), hi = FMADD(vb, LOADL(m1, LAST(cr, nb, m1)), hi); \
        if (bias) lo = ADD(lo, LOAD(bias)), hi = ADD(hi, LOADL(m1, LAST(bias, nb, m1)));  \
        STORE(cr, lo), STOREL(LAST(cr, nb, m1), m1, hi);                                  \
      } else {                                                                            \
        if (add) lo = FMADD(vb, LOADM(m0, cr), lo);                                       \
        if (bias) lo = ADD(lo, LOADM(m0, bias));                                          \
        STOREM(cr, m0, lo);                                                               \
      }                                                                                   \
    }                                                                                     \
  }

#endif
