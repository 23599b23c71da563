/*
 * Elementwise maps and their gradients: the algorithms of vmath_impl.h over one ISA's
 * helper layer, both dtypes.  The build compiles this file once per ISA
 * (-DNNK_ISA=<isa> and that ISA's flags).  Exports, for dt in f32 and f64:
 *   nnk_<dt>_v<name>__<isa> for every name of NNK_MAP_LIST, NNK_GRAD_LIST,
 *   NNK_PMAP_LIST and NNK_PGRAD_LIST (nnk_kernels.h), e.g. nnk_f32_vtanh__avx2.
 */
#include "../simd/layer.h"

/* float64 first: its helpers also evaluate float32's functions (wide_math.h). */
#define NNK_F64 1
#include "../simd/dtype.h"
#include "wide_math.h"
#include "vmath_impl.h"

#define NNK_F64 0
#include "../simd/dtype.h"
#include "vmath_impl.h"
