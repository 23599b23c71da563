/* Optimiser updates, f64, avx512. */
#include "../simd/f64_avx512.h"
#include "optim_impl.h"
