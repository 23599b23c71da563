/*
 * Polynomials by Estrin's scheme, written once over the helper layer (dtype.h includes
 * this after the layer, before the math built on it).  Coefficients are given highest
 * degree first, as Horner's loop reads them: v_poly9(x, c, f) = c[0] x^8 + ... + c[8].
 *
 * Why not Horner: a degree-d Horner chain is d dependent FMAs (4 cycles each on
 * current x86 cores), and the elementwise maps are chains of such polynomials, the
 * exponent trick and a division, a hundred cycles deep.  The out-of-order window
 * holds only a few vectors' worth of that, so the maps ran at the chain's latency,
 * not at the FMA units' throughput.  Estrin evaluates the pairs c x + c' side by side
 * and joins them with x^2, x^4, x^8: about log2(d) steps deep for one or two
 * multiplications more.  The roundings differ from Horner's (each partial sum is
 * smaller than the whole, so no worse); make test-exhaustive proves the float32
 * functions built on it within 1 ULP on every ISA.  Short chains gain nothing: float32
 * exp and tanh (degree 5, csrc/simd/f32_math.h) keep Horner, measured faster on Zen 3.
 *
 * Each takes `fused`, a constant: 1 joins with v_fma (fused on every layer, libm's fma
 * on the scalar one, so that every ISA rounds alike), 0 with a multiply and an add (for
 * float32 functions evaluated in double, where 2^-53 roundings do not matter and the
 * scalar layer's libm calls would quadruple the oracle's time).
 */
#define v_mac VF(v_mac)
#define v_est2 VF(v_est2)
#define v_est4 VF(v_est4)
#define v_est8 VF(v_est8)
#define v_poly9 VF(v_poly9)
#define v_poly13 VF(v_poly13)
#define v_poly14 VF(v_poly14)

static inline V v_mac(int fused, V a, V b, V c)
{
  return fused ? v_fma(a, b, c) : v_add(v_mul(a, b), c);
}

/* c[0] x + c[1] */
static inline V v_est2(V x, const T *c, int f) { return v_mac(f, v_set1(c[0]), x, v_set1(c[1])); }

/* c[0] x^3 + ... + c[3], given x2 = x^2 */
static inline V v_est4(V x, V x2, const T *c, int f)
{
  return v_mac(f, v_est2(x, c, f), x2, v_est2(x, c + 2, f));
}

/* c[0] x^7 + ... + c[7], given x^2 and x^4 */
static inline V v_est8(V x, V x2, V x4, const T *c, int f)
{
  return v_mac(f, v_est4(x, x2, c, f), x4, v_est4(x, x2, c + 4, f));
}

/* degree 8 */
static inline V v_poly9(V x, const T *c, int f)
{
  V x2 = v_mul(x, x), x4 = v_mul(x2, x2);
  return v_mac(f, v_set1(c[0]), v_mul(x4, x4), v_est8(x, x2, x4, c + 1, f));
}

/* degree 12 */
static inline V v_poly13(V x, const T *c, int f)
{
  V x2 = v_mul(x, x), x4 = v_mul(x2, x2);
  V top = v_mac(f, v_set1(c[0]), x4, v_est4(x, x2, c + 1, f)); /* c[0] x^4 + ... + c[4] */
  return v_mac(f, top, v_mul(x4, x4), v_est8(x, x2, x4, c + 5, f));
}

/* degree 13 */
static inline V v_poly14(V x, const T *c, int f)
{
  V x2 = v_mul(x, x), x4 = v_mul(x2, x2);
  V top = v_mac(f, v_est2(x, c, f), x4, v_est4(x, x2, c + 2, f)); /* c[0] x^5 + ... + c[5] */
  return v_mac(f, top, v_mul(x4, x4), v_est8(x, x2, x4, c + 6, f));
}
