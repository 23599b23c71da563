/*
 * Matrix-vector products (dot products, W x, x W): gemv_impl.h over one ISA's helper
 * layer, both dtypes.  The build compiles this file once per ISA (-DNNK_ISA=<isa> and
 * that ISA's flags).  Exports, for dt in f32 and f64:
 *   nnk_<dt>_<name>__<isa> for every name of NNK_GEMV_LIST (nnk_kernels.h),
 *   e.g. nnk_f32_gemv_dots__avx2.
 */
#include "../simd/layer.h"

#define NNK_F64 0
#include "../simd/dtype.h"
#include "gemv_impl.h"

#define NNK_F64 1
#include "../simd/dtype.h"
#include "gemv_impl.h"
