/*
 * Causal self-attention, forward and backward: attention_impl.h over one ISA's helper
 * layer, both dtypes.  The build compiles this file once per ISA (-DNNK_ISA=<isa> and
 * that ISA's flags).  Exports, for dt in f32 and f64:
 *   nnk_<dt>_attention__<isa> and nnk_<dt>_attention_grad__<isa> (NNK_ATTENTION_LIST,
 *   nnk_kernels.h), e.g. nnk_f32_attention__avx2.
 */
#include "../simd/layer.h"

#define NNK_F64 0
#include "../simd/dtype.h"
#include "attention_impl.h"

#define NNK_F64 1
#include "../simd/dtype.h"
#include "attention_impl.h"
