/* Elementwise kernels, f64, avx512: the shared algorithms over this ISA's helper layer. */
#include "../simd/f64_avx512.h"
#include "vmath_impl.h"
