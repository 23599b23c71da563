/* Softmax, log-softmax and log-sum-exp rows, f32, neon. */
#include "../simd/f32_neon.h"
#include "softmax_impl.h"
