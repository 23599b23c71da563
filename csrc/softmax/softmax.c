/*
 * Softmax, log-softmax and log-sum-exp over rows: softmax_impl.h over one ISA's helper
 * layer, both dtypes.  The build compiles this file once per ISA (-DNNK_ISA=<isa> and
 * that ISA's flags).  Exports, for dt in f32 and f64:
 *   nnk_<dt>_<name>_rows__<isa> for every name of NNK_ROWS_LIST and NNK_ROWS_GRAD_LIST
 *   (nnk_kernels.h), and nnk_<dt>_cross_entropy__<isa> (NNK_ROW_LAYER_LIST),
 *   e.g. nnk_f64_log_softmax_rows__neon.
 */
#include "../simd/layer.h"

#define NNK_F64 0
#include "../simd/dtype.h"
#include "softmax_impl.h"

#define NNK_F64 1
#include "../simd/dtype.h"
#include "softmax_impl.h"
