/*
 * One dtype's helper layer of NNK_ISA (see layer.h), included once per dtype by a family
 * source with NNK_F64 set to 0 (float) or 1 (double).  It first ends the previous
 * dtype's names, so that this one can define its element type T, width W, vector and
 * mask types V and M, kernel names KNAME(op) and helper prefix VF(name).
 */
#include "layer.h"

#undef T
#undef W
#undef VREGS
#undef V
#undef M
#undef VJ
#undef VC
#undef NNK_STREAM_STORES /* a capability of one dtype's layer (AVX2: float32's alone) */
#undef KNAME
#undef VF
#undef NNK_DT_F32

#if NNK_F64
#define VF(name) f64_##name
#define NNK_DT_F32 0 /* for what an algorithm does per dtype (vmath: float32 in double) */
#include NNK_LAYER_HEADER(f64)
#else
#define VF(name) f32_##name
#define NNK_DT_F32 1
#include NNK_LAYER_HEADER(f32)
#endif

/* 1/d within 2^-28 relative, which the pair algorithms (sigmoid_pair.h, tanh_pair.h) need
 * before they correct their quotient by its residual: a division, where the layer has no
 * faster one of its own (NNK_F64_RECIP: AVX-512's float64). */
#if !(NNK_F64 && NNK_F64_RECIP)
static inline V v_recip(V d) { return v_div(v_set1(1), d); }
#endif

#include "poly.h" /* Estrin polynomials */
#if NNK_F64
#include "f64_math.h" /* v_sigmoid, v_tanh within 1 ULP */
#else
#include "f32_math.h" /* v_exp, v_sigmoid, v_tanh: nnk's own, within 1 ULP */
#endif
#undef NNK_F64

/* Helpers written once over the layer, for this dtype (their names, like the layer's,
 * are macros for the dtype's own: f32_s_log, f64_s_log). */
#include <string.h>
#define s_log VF(s_log)
#define s_sqrt VF(s_sqrt)

/* The first count (< W) values at p, zero-padded to a whole vector: a tail read that
 * stays inside [p, p + count).  Through a buffer where the layer has no masked load of
 * its own (NEON, scalar): a memcpy and a wide load of narrower stores, which cannot be
 * forwarded (on x86 the masked loads made W x with rows of 500 float32 1.4x as fast). */
#if !(NNK_DT_F32 ? NNK_F32_LOAD_PART : NNK_F64_LOAD_PART)
static inline V v_load_part(const T *p, size_t count)
{
  T b[W] = {0};
  memcpy(b, p, count * sizeof(T));
  return v_load(b);
}
#endif

/* log and sqrt of one value through the ISA's own vector functions, so that a scalar
 * result (a row's log-sum-exp, a row's 1/std) is what the vector paths would give. */
static inline T s_log(T x)
{
  T b[W];
  for (size_t i = 0; i < W; i++) b[i] = x;
  v_store(b, v_log(v_load(b)));
  return b[0];
}

static inline T s_sqrt(T x)
{
  T b[W];
  for (size_t i = 0; i < W; i++) b[i] = x;
  v_store(b, v_sqrt(v_load(b)));
  return b[0];
}
