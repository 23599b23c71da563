/* Elementwise kernels, f64, avx2: the shared algorithms over this ISA's helper layer. */
#include "../simd/f64_avx2.h"
#include "vmath_impl.h"
