/* Softmax, log-softmax and log-sum-exp rows, f32, avx512. */
#include "../simd/f32_avx512.h"
#include "softmax_impl.h"
