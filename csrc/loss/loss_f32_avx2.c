/* Pointwise losses and their gradients, f32, avx2. */
#include "../simd/f32_avx2.h"
#include "loss_impl.h"
