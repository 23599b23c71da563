/* Softmax, log-softmax and log-sum-exp rows, f64, scalar. */
#include "../simd/f64_scalar.h"
#include "softmax_impl.h"
