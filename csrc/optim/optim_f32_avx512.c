/* Optimiser updates, f32, avx512. */
#include "../simd/f32_avx512.h"
#include "optim_impl.h"
