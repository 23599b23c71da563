/* Helper layer, scalar (width 1): the helpers whose text is the same for float and
 * double, included by f32_scalar.h and f64_scalar.h after each has defined T, V and M.
 * What differs by dtype (fma's rounding, fabs, SLEEF's functions, the exponent's bits)
 * stays in those two headers. */
static inline V v_load(const T *p) { return *p; }
static inline void v_store(T *p, V v) { *p = v; }
static inline V v_set1(T x) { return x; }
static inline V v_add(V a, V b) { return a + b; }
static inline V v_sub(V a, V b) { return a - b; }
static inline V v_mul(V a, V b) { return a * b; }
static inline V v_div(V a, V b) { return a / b; }
static inline V v_max(V a, V b) { return a > b ? a : b; }
static inline V v_min(V a, V b) { return a < b ? a : b; }
static inline V v_neg(V a) { return -a; }
static inline M v_lt(V a, V b) { return a < b; }
static inline M v_gt(V a, V b) { return a > b; }
static inline M v_ge(V a, V b) { return a >= b; }
static inline V v_select(M m, V a, V b) { return m ? a : b; }
/* whether any lane of m is set */
static inline int v_any(M m) { return m != 0; }
static inline T v_hsum(V a) { return a; }
static inline T v_hmax(V a) { return a; }
