/*
 * One dtype's helper layer of NNK_ISA (see layer.h), included once per dtype by a family
 * source with NNK_F64 set to 0 (float) or 1 (double).  It first ends the previous
 * dtype's names, so that this one can define its element type T, width W, vector and
 * mask types V and M, kernel names KNAME(op) and helper prefix VF(name).
 */
#include "layer.h"

#undef T
#undef W
#undef V
#undef M
#undef KNAME
#undef VF

#if NNK_F64
#define VF(name) f64_##name
#include NNK_LAYER_HEADER(f64)
#else
#define VF(name) f32_##name
#include NNK_LAYER_HEADER(f32)
#endif
#undef NNK_F64
