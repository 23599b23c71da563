/* Softmax, log-softmax and log-sum-exp rows, f32, scalar. */
#include "../simd/f32_scalar.h"
#include "softmax_impl.h"
