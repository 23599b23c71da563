/* Pointwise losses and their gradients, f64, neon. */
#include "../simd/f64_neon.h"
#include "loss_impl.h"
