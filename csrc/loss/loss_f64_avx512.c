/* Pointwise losses and their gradients, f64, avx512. */
#include "../simd/f64_avx512.h"
#include "loss_impl.h"
