/* Helper layer: float, scalar (width 1).  The reference every SIMD layer is tested against. */
#include <sleef.h>
#include <stdint.h>
#include <string.h>
#define T float
#define W 1
#define VREGS 16 /* as AVX2: the reference runs the tiles the vector layers run */
#define KNAME(op) nnk_f32_##op##__scalar
#define V float
#define M int
#include "scalar_lane.h"
/* Fused in effect: the product is exact in double, the sum rounds to double and then to
 * float (a second rounding that differs from one only at a double-rounding tie); the
 * float32 math (vmath/f32_math.h) needs its residuals exact, which this gives. */
static inline V v_fma(V a, V b, V c) { return (float)((double)a * b + c); }
static inline V v_abs(V a) { return __builtin_fabsf(a); }
static inline V v_copysign(V mag, V sign) { return __builtin_copysignf(mag, sign); }
static inline V v_log(V a) { return Sleef_logf_u10(a); }
static inline V v_erfc(V a) { return Sleef_erfcf_u15(a); }
static inline V v_log1p(V a) { return Sleef_log1pf_u10(a); }
static inline V v_sqrt(V a) { return __builtin_sqrtf(a); }
static inline V v_pow2_shifted(V k)
{
  uint32_t b;
  memcpy(&b, &k, 4);
  b = (b << 23) + 0x3F800000u; /* see README: n's low bits into the exponent */
  memcpy(&k, &b, 4);
  return k;
}
/* The lanes' float bits set to round(t), t in [0, 2^31), ties to even: a subnormal result
 * built from a normal float (f32_math.h's f32_scale). */
static inline V v_round_bits(V t)
{
  int32_t i = (int32_t)__builtin_nearbyintf(t);
  memcpy(&t, &i, 4);
  return t;
}
/* float32 functions evaluated in double (vmath/wide_math.h): fn on the widened value,
 * rounded once back to float. */
#define f32_v_wide(fn, x) ((float)fn((double)(x)))
