/* Elementwise kernels, f64, scalar: the shared algorithms over this ISA's helper layer. */
#include "../simd/f64_scalar.h"
#include "vmath_impl.h"
