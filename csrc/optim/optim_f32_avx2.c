/* Optimiser updates, f32, avx2. */
#include "../simd/f32_avx2.h"
#include "optim_impl.h"
