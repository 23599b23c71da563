/* Pointwise losses and their gradients, f32, avx512. */
#include "../simd/f32_avx512.h"
#include "loss_impl.h"
