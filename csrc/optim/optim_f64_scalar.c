/* Optimiser updates, f64, scalar. */
#include "../simd/f64_scalar.h"
#include "optim_impl.h"
