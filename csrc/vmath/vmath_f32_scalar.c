/* Elementwise kernels, f32, scalar: the shared algorithms over this ISA's helper layer. */
#include "../simd/f32_scalar.h"
#include "vmath_impl.h"
