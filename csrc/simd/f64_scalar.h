/* Helper layer: double, scalar (width 1). */
#include <sleef.h>
#include <stdint.h>
#include <string.h>
#define T double
#define W 1
#define VREGS 16 /* as AVX2: the reference runs the tiles the vector layers run */
#define KNAME(op) nnk_f64_##op##__scalar
#define V double
#define M int
#include "scalar_lane.h"
static inline V v_fma(V a, V b, V c) { return __builtin_fma(a, b, c); } /* libm: one rounding */
static inline V v_abs(V a) { return __builtin_fabs(a); }
static inline V v_copysign(V mag, V sign) { return __builtin_copysign(mag, sign); }
static inline V v_exp(V a) { return Sleef_exp_u10(a); }
static inline V v_log(V a) { return Sleef_log_u10(a); }
static inline V v_erfc(V a) { return Sleef_erfc_u15(a); }
static inline V v_log1p(V a) { return Sleef_log1p_u10(a); }
static inline V v_sqrt(V a) { return __builtin_sqrt(a); }
static inline V v_pow2_shifted(V k)
{
  uint64_t b;
  memcpy(&b, &k, 8);
  b = (b << 52) + 0x3FF0000000000000ull; /* see README: n's low bits into the exponent */
  memcpy(&k, &b, 8);
  return k;
}
