/*
 * One kernel table per ISA, built at compile time from the lists in nnk_kernels.h.
 * Compiled without ISA flags: it only takes addresses.
 */
#include "tables.h"

#include "nnk_kernels.h"
#include "../gemm/ukernels.h"

NNK_DECLARE_ISA_KERNELS(scalar)

#define F32_ENTRY_(E, name, isa) [NNK_V##E] = nnk_f32_v##name##__##isa,
#define F64_ENTRY_(E, name, isa) [NNK_V##E] = nnk_f64_v##name##__##isa,

#define F32_LOSS_(E, name, isa) [NNK_LOSS_##E] = nnk_f32_loss_##name##__##isa,
#define F64_LOSS_(E, name, isa) [NNK_LOSS_##E] = nnk_f64_loss_##name##__##isa,
#define F32_LOSS_GRAD_(E, name, isa) [NNK_LOSS_##E] = nnk_f32_loss_##name##_grad__##isa,
#define F64_LOSS_GRAD_(E, name, isa) [NNK_LOSS_##E] = nnk_f64_loss_##name##_grad__##isa,

#define NNK_TABLE_ELEMENTWISE(isa)                                              \
  .f32_loss = {NNK_LOSS_LIST(F32_LOSS_, isa)},                                  \
  .f64_loss = {NNK_LOSS_LIST(F64_LOSS_, isa)},                                  \
  .f32_loss_grad = {NNK_LOSS_LIST(F32_LOSS_GRAD_, isa)},                        \
  .f64_loss_grad = {NNK_LOSS_LIST(F64_LOSS_GRAD_, isa)},                        \
  .f32_sgd_step = nnk_f32_sgd_step__##isa,                                      \
  .f64_sgd_step = nnk_f64_sgd_step__##isa,                                      \
  .f32_adam_step = nnk_f32_adam_step__##isa,                                    \
  .f64_adam_step = nnk_f64_adam_step__##isa,                                    \
  .f32_axpy = nnk_f32_axpy__##isa,                                              \
  .f64_axpy = nnk_f64_axpy__##isa,                                              \
  .f32_vunary = {NNK_VUNARY_LIST(F32_ENTRY_, isa)},                             \
  .f64_vunary = {NNK_VUNARY_LIST(F64_ENTRY_, isa)},                             \
  .f32_vgrad = {NNK_VGRAD_LIST(F32_ENTRY_, isa)},                               \
  .f64_vgrad = {NNK_VGRAD_LIST(F64_ENTRY_, isa)},                               \
  .f32_vleaky_relu = nnk_f32_vleaky_relu__##isa,                                \
  .f64_vleaky_relu = nnk_f64_vleaky_relu__##isa,                                \
  .f32_vleaky_relu_grad = nnk_f32_vleaky_relu_grad__##isa,                      \
  .f64_vleaky_relu_grad = nnk_f64_vleaky_relu_grad__##isa,                      \
  .f32_softmax_rows = nnk_f32_softmax_rows__##isa,                              \
  .f64_softmax_rows = nnk_f64_softmax_rows__##isa,                              \
  .f32_log_softmax_rows = nnk_f32_log_softmax_rows__##isa,                      \
  .f64_log_softmax_rows = nnk_f64_log_softmax_rows__##isa,                      \
  .f32_logsumexp_rows = nnk_f32_logsumexp_rows__##isa,                          \
  .f64_logsumexp_rows = nnk_f64_logsumexp_rows__##isa

const nnk_kernel_table nnk_table_scalar = {
  .isa = NNK_ISA_SCALAR,
  NNK_TABLE_ELEMENTWISE(scalar),
  /* No blocked GEMM: the scalar path is the reference loop nest. */
  .f32_gemm = {0},
  .f64_gemm = {0},
};

#if NNK_BUILD_AVX2
NNK_DECLARE_ISA_KERNELS(avx2)
const nnk_kernel_table nnk_table_avx2 = {
  .isa = NNK_ISA_AVX2,
  NNK_TABLE_ELEMENTWISE(avx2),
  .f32_gemm = NNK_F32_GEMM_CONFIG_AVX2,
  .f64_gemm = NNK_F64_GEMM_CONFIG_AVX2,
};
#endif

#if NNK_BUILD_AVX512
NNK_DECLARE_ISA_KERNELS(avx512)
const nnk_kernel_table nnk_table_avx512 = {
  .isa = NNK_ISA_AVX512,
  NNK_TABLE_ELEMENTWISE(avx512),
  .f32_gemm = NNK_F32_GEMM_CONFIG_AVX512,
  .f64_gemm = NNK_F64_GEMM_CONFIG_AVX512,
};
#endif

#if NNK_BUILD_NEON
NNK_DECLARE_ISA_KERNELS(neon)
const nnk_kernel_table nnk_table_neon = {
  .isa = NNK_ISA_NEON,
  NNK_TABLE_ELEMENTWISE(neon),
  .f32_gemm = NNK_F32_GEMM_CONFIG_NEON,
  .f64_gemm = NNK_F64_GEMM_CONFIG_NEON,
};
#endif
