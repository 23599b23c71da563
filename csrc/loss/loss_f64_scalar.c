/* Pointwise losses and their gradients, f64, scalar. */
#include "../simd/f64_scalar.h"
#include "loss_impl.h"
