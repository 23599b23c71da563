/* Elementwise kernels, f32, neon: the shared algorithms over this ISA's helper layer. */
#include "../simd/f32_neon.h"
#include "vmath_impl.h"
