/* Softmax, log-softmax and log-sum-exp rows, f64, avx2. */
#include "../simd/f64_avx2.h"
#include "softmax_impl.h"
