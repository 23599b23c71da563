/* Elementwise kernels, f32, avx512: the shared algorithms over this ISA's helper layer. */
#include "../simd/f32_avx512.h"
#include "vmath_impl.h"
