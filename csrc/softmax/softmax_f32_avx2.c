/* Softmax, log-softmax and log-sum-exp rows, f32, avx2. */
#include "../simd/f32_avx2.h"
#include "softmax_impl.h"
