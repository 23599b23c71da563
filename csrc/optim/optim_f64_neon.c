/* Optimiser updates, f64, neon. */
#include "../simd/f64_neon.h"
#include "optim_impl.h"
