/*
 * Optimiser updates (SGD with momentum and Nesterov, Adam) and axpy: optim_impl.h over
 * one ISA's helper layer, both dtypes.  The build compiles this file once per ISA
 * (-DNNK_ISA=<isa> and that ISA's flags).  Exports, for dt in f32 and f64:
 *   nnk_<dt>_<name>__<isa> for every name of NNK_STEP_LIST (nnk_kernels.h),
 *   e.g. nnk_f64_adam_step__avx2.
 */
#include "../simd/layer.h"

#define NNK_F64 0
#include "../simd/dtype.h"
#include "optim_impl.h"

#define NNK_F64 1
#include "../simd/dtype.h"
#include "optim_impl.h"
