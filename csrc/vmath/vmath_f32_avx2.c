/* Elementwise kernels, f32, avx2: the shared algorithms over this ISA's helper layer. */
#include "../simd/f32_avx2.h"
#include "vmath_impl.h"
