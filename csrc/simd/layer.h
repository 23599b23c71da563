/*
 * The helper layer of the ISA being compiled, for a family source (csrc/<family>/<family>.c)
 * that the build compiles once per ISA with -DNNK_ISA=<isa> and that ISA's flags.
 * Such a source holds both dtypes:
 *
 *   #define NNK_F64 0
 *   #include "../simd/dtype.h"    T, W, V, M, KNAME and v_* for float on NNK_ISA
 *   #include "vmath_impl.h"
 *   #define NNK_F64 1
 *   #include "../simd/dtype.h"    the same names, now for double
 *   #include "vmath_impl.h"
 *
 * The helpers of both dtypes coexist in one object because each name v_op is a macro
 * for VF(v_op), which every layer header defines with its dtype's prefix (f32_v_op,
 * f64_v_op); the impl headers name their own static helpers the same way.
 */
#ifndef NNK_SIMD_LAYER_H
#define NNK_SIMD_LAYER_H

#include "nnk_kernels.h"

#ifndef NNK_ISA
#error "a family source is compiled per ISA: the build passes -DNNK_ISA=<isa>"
#endif

#define NNK_CAT_(a, b) a##b
#define NNK_CAT(a, b) NNK_CAT_(a, b)
#define NNK_STR_(x) #x
#define NNK_STR(x) NNK_STR_(x)
/* A helper the compiler must inline: left to itself GCC calls some once per vector (whose
 * chains then run one after the other), and drops calls to one that only prefetches. */
#define NNK_FORCE_INLINE static inline __attribute__((always_inline))
/* "f32_avx2.h" for dt f32 on avx2: the layer header in this directory. */
#define NNK_LAYER_HEADER(dt) NNK_STR(NNK_CAT(dt, NNK_CAT(_, NNK_ISA)).h)

/* Every kernel of this ISA declared from the lists, so that each definition is checked
 * against its list's signature. */
NNK_DECLARE_ISA_KERNELS(NNK_ISA)

/* The helper API every layer defines (csrc/simd/README.md). */
#define v_load VF(v_load)
#define v_store VF(v_store)
#define v_set1 VF(v_set1)
#define v_add VF(v_add)
#define v_sub VF(v_sub)
#define v_mul VF(v_mul)
#define v_fma VF(v_fma)
#define v_div VF(v_div)
#define v_recip VF(v_recip)
#define v_max VF(v_max)
#define v_min VF(v_min)
#define v_neg VF(v_neg)
#define v_abs VF(v_abs)
#define v_copysign VF(v_copysign)
#define v_lt VF(v_lt)
#define v_gt VF(v_gt)
#define v_ge VF(v_ge)
#define v_select VF(v_select)
#define v_any VF(v_any)
#define v_exp VF(v_exp)
#define v_log VF(v_log)
#define v_tanh VF(v_tanh)
#define v_sigmoid VF(v_sigmoid)
#define v_erfc VF(v_erfc)
#define v_log1p VF(v_log1p)
#define v_sqrt VF(v_sqrt)
#define v_hsum VF(v_hsum)
#define v_hmax VF(v_hmax)
/* a tail of count < W values: the layer's masked load where it has one
 * (NNK_F32_LOAD_PART, NNK_F64_LOAD_PART), else dtype.h's, through a buffer */
#define v_load_part VF(v_load_part)
/* layers that define NNK_STREAM_STORES (AVX-512): non-temporal stores, the shift v_join */
#define v_stream VF(v_stream)
#define v_stream_fence VF(v_stream_fence)
#define v_join_index VF(v_join_index)
#define v_join VF(v_join)
/* float32 layers only: evaluating in double (vmath/wide_math.h) */
#define v_widen_lo VF(v_widen_lo)
#define v_widen_hi VF(v_widen_hi)
#define v_narrow VF(v_narrow)
#define v_wide(fn, x) VF(v_wide)(fn, x)
/* 2^n from k = n + 1.5 2^(mantissa bits), n within the normal exponents */
#define v_pow2_shifted VF(v_pow2_shifted)
/* the lanes' bits set to an integer, round(t): subnormal results built without subnormal
 * arithmetic (every float32 layer; float64 where NNK_F64_LOOKUP16) */
#define v_round_bits VF(v_round_bits)
/* layers that define NNK_F64_LOOKUP16 (AVX-512): 16-entry float64 tables in registers */
#define v_lookup16 VF(v_lookup16)
/* layers that define NNK_F32_SCALEF or NNK_F64_LOOKUP16 (AVX-512): v 2^n in one instruction */
#define v_scalef VF(v_scalef)
/* layers that define NNK_F32_LOOKUP8 (AVX2): 8-entry tables in registers */
#define v_lookup8 VF(v_lookup8)
#define v_nearest_index VF(v_nearest_index)
#define v_pow2_shifted_eighths VF(v_pow2_shifted_eighths)
/* layers that define NNK_F32_LOOKUP32 (AVX-512): 32-entry tables in registers */
#define v_quarter_binade VF(v_quarter_binade)
#define v_lookup32 VF(v_lookup32)
#define v_floor_index VF(v_floor_index)
#define v_bits_index VF(v_bits_index)
/* float32 layers that define NNK_F32_COMPRESS (AVX-512, AVX2): chosen lanes packed to the
 * front, and spread back */
#define v_mask_bits VF(v_mask_bits)
#define v_compress_key VF(v_compress_key)
#define v_compress VF(v_compress)
#define v_expand VF(v_expand)

#endif
