/* Helper layer: float, AArch64 NEON, 4 lanes. */
#include <arm_neon.h>
#include <sleef.h>
#define T float
#define W 4
#define VREGS 32 /* 32 Q registers: register tiles are sized from it */
#define KNAME(op) nnk_f32_##op##__neon
#define V float32x4_t
#define M uint32x4_t
static inline V v_load(const T *p) { return vld1q_f32(p); }
static inline void v_store(T *p, V v) { vst1q_f32(p, v); }
static inline V v_set1(T x) { return vdupq_n_f32(x); }
static inline V v_add(V a, V b) { return vaddq_f32(a, b); }
static inline V v_sub(V a, V b) { return vsubq_f32(a, b); }
static inline V v_mul(V a, V b) { return vmulq_f32(a, b); }
static inline V v_fma(V a, V b, V c) { return vfmaq_f32(c, a, b); }
static inline V v_div(V a, V b) { return vdivq_f32(a, b); }
static inline V v_max(V a, V b) { return vmaxq_f32(a, b); }
static inline V v_min(V a, V b) { return vminq_f32(a, b); }
static inline V v_neg(V a) { return vnegq_f32(a); }
static inline V v_abs(V a) { return vabsq_f32(a); }
/* mag with the sign of sign: a bitwise select on the sign bit */
static inline V v_copysign(V mag, V sign) { return vbslq_f32(vdupq_n_u32(0x80000000u), sign, mag); }
static inline M v_lt(V a, V b) { return vcltq_f32(a, b); }
static inline M v_gt(V a, V b) { return vcgtq_f32(a, b); }
static inline M v_ge(V a, V b) { return vcgeq_f32(a, b); }
static inline V v_select(M m, V a, V b) { return vbslq_f32(m, a, b); }
/* whether any lane of m is set */
static inline int v_any(M m) { return vmaxvq_u32(m) != 0; }
static inline V v_log(V a) { return Sleef_logf4_u10advsimd(a); }
static inline V v_erfc(V a) { return Sleef_erfcf4_u15advsimd(a); }
static inline V v_log1p(V a) { return Sleef_log1pf4_u10advsimd(a); }
static inline V v_sqrt(V a) { return vsqrtq_f32(a); }
static inline V v_pow2_shifted(V k)
{
  uint32x4_t b = vshlq_n_u32(vreinterpretq_u32_f32(k), 23);
  return vreinterpretq_f32_u32(vaddq_u32(b, vdupq_n_u32(0x3F800000u)));
}
/* The lanes' float bits set to round(t), t in [0, 2^31), ties to even: a subnormal result
 * built from a normal float (f32_math.h's f32_scale). */
static inline V v_round_bits(V t) { return vreinterpretq_f32_s32(vcvtnq_s32_f32(t)); }
/* float32 functions evaluated in double (vmath/wide_math.h): fn on each half widened,
 * rounded once back to float. */
static inline float64x2_t v_widen_lo(V a) { return vcvt_f64_f32(vget_low_f32(a)); }
static inline float64x2_t v_widen_hi(V a) { return vcvt_high_f64_f32(a); }
static inline V v_narrow(float64x2_t lo, float64x2_t hi) { return vcvt_high_f32_f64(vcvt_f32_f64(lo), hi); }
#define f32_v_wide(fn, x) f32_v_narrow(fn(f32_v_widen_lo(x)), fn(f32_v_widen_hi(x)))
static inline T v_hsum(V a) { return vaddvq_f32(a); }
static inline T v_hmax(V a) { return vmaxvq_f32(a); }
