/* Elementwise kernels, f64, neon: the shared algorithms over this ISA's helper layer. */
#include "../simd/f64_neon.h"
#include "vmath_impl.h"
