/* Pointwise losses and their gradients, f32, neon. */
#include "../simd/f32_neon.h"
#include "loss_impl.h"
