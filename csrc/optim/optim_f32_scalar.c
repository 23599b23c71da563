/* Optimiser updates, f32, scalar. */
#include "../simd/f32_scalar.h"
#include "optim_impl.h"
