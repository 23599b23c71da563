/* Optimiser updates, f64, avx2. */
#include "../simd/f64_avx2.h"
#include "optim_impl.h"
