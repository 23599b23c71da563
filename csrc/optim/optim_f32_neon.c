/* Optimiser updates, f32, neon. */
#include "../simd/f32_neon.h"
#include "optim_impl.h"
