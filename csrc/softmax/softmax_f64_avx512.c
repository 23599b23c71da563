/* Softmax, log-softmax and log-sum-exp rows, f64, avx512. */
#include "../simd/f64_avx512.h"
#include "softmax_impl.h"
