/* Softmax, log-softmax and log-sum-exp rows, f64, neon. */
#include "../simd/f64_neon.h"
#include "softmax_impl.h"
