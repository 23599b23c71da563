/*
 * Pointwise losses and their gradients: loss_impl.h over one ISA's helper layer, both
 * dtypes.  The build compiles this file once per ISA (-DNNK_ISA=<isa> and that ISA's
 * flags).  Exports, for dt in f32 and f64 and every name of NNK_LOSS_LIST:
 *   nnk_<dt>_loss_<name>__<isa> and nnk_<dt>_loss_<name>_grad__<isa>,
 *   e.g. nnk_f32_loss_bce_logits_grad__avx512.
 */
#include "../simd/layer.h"

#define NNK_F64 0
#include "../simd/dtype.h"
#include "loss_impl.h"

#define NNK_F64 1
#include "../simd/dtype.h"
#include "loss_impl.h"
