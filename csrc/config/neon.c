/*
 * neon: aarch64 Advanced SIMD (part of the aarch64 baseline; still read from HWCAP).
 *
 * GEMM tiles use the 32 128-bit registers: f32 8 x 12 (24 accumulators, 2 A and 3 B
 * vectors), f64 4 x 8 (16 accumulators).  No direct tiles yet: small problems pack.
 * Block sizes from the CPU's caches at run time (gemm_blocks).
 */
#include "config.h"

#if defined(__aarch64__)
NNK_DECLARE_ISA_KERNELS(neon)
void nnk_f32_gemm_pack__neon NNK_SIG_GEMM_PACK(float);
void nnk_f64_gemm_pack__neon NNK_SIG_GEMM_PACK(double);
void nnk_f32_gemm_ukernel_8x12__neon NNK_SIG_GEMM_UKERNEL(float);
void nnk_f64_gemm_ukernel_4x8__neon NNK_SIG_GEMM_UKERNEL(double);

static bool runs(const nnk_cpu *cpu) { return cpu->asimd; }

const nnk_isa_config nnk_config_neon = {
  .runs = runs,
  .gemm_blocks = &nnk_gemm_blocks_l1,
  .table = {
    .isa = NNK_ISA_NEON,
    .f32 = {NNK_DTYPE_TABLE(f32, neon),
            .gemm = {.mr = 8, .nr = 12, .ukernel = nnk_f32_gemm_ukernel_8x12__neon,
                     .pack = nnk_f32_gemm_pack__neon, NNK_GEMM_THRESHOLDS}},
    .f64 = {NNK_DTYPE_TABLE(f64, neon),
            .gemm = {.mr = 4, .nr = 8, .ukernel = nnk_f64_gemm_ukernel_4x8__neon,
                     .pack = nnk_f64_gemm_pack__neon, NNK_GEMM_THRESHOLDS}},
  },
};
#else
const nnk_isa_config nnk_config_neon = {.table = {.isa = NNK_ISA_NEON}};
#endif
