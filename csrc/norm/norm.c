/*
 * LayerNorm over rows, forward and backward: norm_impl.h over one ISA's helper layer,
 * both dtypes.  The build compiles this file once per ISA (-DNNK_ISA=<isa> and that
 * ISA's flags).  Exports, for dt in f32 and f64:
 *   nnk_<dt>_layernorm__<isa> and nnk_<dt>_layernorm_grad__<isa> (NNK_ROW_LAYER_LIST,
 *   nnk_kernels.h), e.g. nnk_f32_layernorm__avx2.
 */
#include "../simd/layer.h"

#define NNK_F64 0
#include "../simd/dtype.h"
#include "norm_impl.h"

#define NNK_F64 1
#include "../simd/dtype.h"
#include "norm_impl.h"
