/* Pointwise losses and their gradients, f32, scalar. */
#include "../simd/f32_scalar.h"
#include "loss_impl.h"
