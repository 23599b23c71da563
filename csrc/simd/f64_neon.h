/* Helper layer: double, AArch64 NEON, 2 lanes. */
#include <arm_neon.h>
#include <sleef.h>
#define T double
#define W 2
#define VREGS 32 /* 32 Q registers: register tiles are sized from it */
#define KNAME(op) nnk_f64_##op##__neon
#define V float64x2_t
#define M uint64x2_t
static inline V v_load(const T *p) { return vld1q_f64(p); }
static inline void v_store(T *p, V v) { vst1q_f64(p, v); }
static inline V v_set1(T x) { return vdupq_n_f64(x); }
static inline V v_add(V a, V b) { return vaddq_f64(a, b); }
static inline V v_sub(V a, V b) { return vsubq_f64(a, b); }
static inline V v_mul(V a, V b) { return vmulq_f64(a, b); }
static inline V v_fma(V a, V b, V c) { return vfmaq_f64(c, a, b); }
static inline V v_div(V a, V b) { return vdivq_f64(a, b); }
static inline V v_max(V a, V b) { return vmaxq_f64(a, b); }
static inline V v_min(V a, V b) { return vminq_f64(a, b); }
static inline V v_neg(V a) { return vnegq_f64(a); }
static inline V v_abs(V a) { return vabsq_f64(a); }
/* mag with the sign of sign: a bitwise select on the sign bit */
static inline V v_copysign(V mag, V sign) { return vbslq_f64(vdupq_n_u64(0x8000000000000000ull), sign, mag); }
static inline M v_lt(V a, V b) { return vcltq_f64(a, b); }
static inline M v_gt(V a, V b) { return vcgtq_f64(a, b); }
static inline M v_ge(V a, V b) { return vcgeq_f64(a, b); }
static inline V v_select(M m, V a, V b) { return vbslq_f64(m, a, b); }
/* whether any lane of m is set */
static inline int v_any(M m) { return (vgetq_lane_u64(m, 0) | vgetq_lane_u64(m, 1)) != 0; }
static inline V v_log(V a) { return Sleef_logd2_u10advsimd(a); }
static inline V v_erfc(V a) { return Sleef_erfcd2_u15advsimd(a); }
static inline V v_log1p(V a) { return Sleef_log1pd2_u10advsimd(a); }
static inline V v_sqrt(V a) { return vsqrtq_f64(a); }
static inline V v_pow2_shifted(V k)
{
  uint64x2_t b = vshlq_n_u64(vreinterpretq_u64_f64(k), 52);
  return vreinterpretq_f64_u64(vaddq_u64(b, vdupq_n_u64(0x3FF0000000000000ull)));
}
static inline T v_hsum(V a) { return vaddvq_f64(a); }
static inline T v_hmax(V a) { return vmaxvq_f64(a); }
