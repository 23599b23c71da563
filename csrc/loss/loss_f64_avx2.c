/* Pointwise losses and their gradients, f64, avx2. */
#include "../simd/f64_avx2.h"
#include "loss_impl.h"
