/*
 * scalar: the portable C reference, built for every architecture and run on every CPU.
 * Its kernels are the oracle every SIMD path is tested against; its GEMM is the
 * reference loop nest (no microkernel, so gemm.ukernel stays NULL).
 */
#include "config.h"

NNK_DECLARE_ISA_KERNELS(scalar)

static bool runs(const nnk_cpu *cpu)
{
  (void)cpu;
  return true;
}

const nnk_isa_config nnk_config_scalar = {
  .runs = runs,
  .table = {
    .isa = NNK_ISA_SCALAR,
    .f32 = {NNK_DTYPE_TABLE(f32, scalar), .gemm = {NNK_GEMM_THRESHOLDS}},
    .f64 = {NNK_DTYPE_TABLE(f64, scalar), .gemm = {NNK_GEMM_THRESHOLDS}},
  },
};
