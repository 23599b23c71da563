/*
 * avx2: x86-64 with AVX2 + FMA and YMM state saved by the OS.
 *
 * GEMM tiles 6 x 16 (f32) and 6 x 8 (f64): twelve YMM accumulators of sixteen, enough
 * independent FMA chains for two pipes of latency 4-5 (Haswell to Zen 3).  Block sizes
 * from the CPU's caches at run time by the "l2" rule (csrc/gemm/blocking.c), as
 * AVX-512's: a KC sized for a B micro-panel in L1 made more passes over C than the
 * residency saved (Zen 4 running these kernels, side by side with the "l1" rule's
 * blocks in one process: sgemm 512-2048^3 1-2 % faster, 400 x 2000 x 400 5 %, the
 * MLP and GPT training steps the same within 0.5 %).  Direct tiles take any width up to
 * NR (csrc/gemm/ukernel_avx2.c): an edge panel is neither packed nor merged.
 */
#include "config.h"

#if defined(__x86_64__)
NNK_DECLARE_ISA_KERNELS(avx2)
void nnk_f32_gemm_pack__avx2 NNK_SIG_GEMM_PACK(float);
void nnk_f64_gemm_pack__avx2 NNK_SIG_GEMM_PACK(double);
void nnk_f32_gemm_ukernel_6x16__avx2 NNK_SIG_GEMM_UKERNEL(float);
void nnk_f64_gemm_ukernel_6x8__avx2 NNK_SIG_GEMM_UKERNEL(double);
void nnk_f32_gemm_direct_6x16__avx2 NNK_SIG_GEMM_DIRECT(float);
void nnk_f64_gemm_direct_6x8__avx2 NNK_SIG_GEMM_DIRECT(double);
void nnk_f32_gemm_edge_6x16__avx2 NNK_SIG_GEMM_EDGE(float);
void nnk_f64_gemm_edge_6x8__avx2 NNK_SIG_GEMM_EDGE(double);

static bool runs(const nnk_cpu *cpu) { return cpu->avx && cpu->avx2 && cpu->fma && cpu->ymm_os; }

const nnk_isa_config nnk_config_avx2 = {
  .runs = runs,
  .gemm_blocks = &nnk_gemm_blocks_l2,
  .table = {
    .isa = NNK_ISA_AVX2,
    .f32 = {NNK_DTYPE_TABLE(f32, avx2), NNK_DTYPE_TABLE_NT(f32, avx2),
            .gemm = {.mr = 6, .nr = 16, .ukernel = nnk_f32_gemm_ukernel_6x16__avx2,
                     .edge = nnk_f32_gemm_edge_6x16__avx2,
                     .pack = nnk_f32_gemm_pack__avx2,
                     .direct = nnk_f32_gemm_direct_6x16__avx2, .direct_any_width = true,
                     NNK_GEMM_THRESHOLDS}},
    .f64 = {NNK_DTYPE_TABLE(f64, avx2),
            .gemm = {.mr = 6, .nr = 8, .ukernel = nnk_f64_gemm_ukernel_6x8__avx2,
                     .edge = nnk_f64_gemm_edge_6x8__avx2,
                     .pack = nnk_f64_gemm_pack__avx2,
                     .direct = nnk_f64_gemm_direct_6x8__avx2, .direct_any_width = true,
                     NNK_GEMM_THRESHOLDS}},
  },
};
#else
const nnk_isa_config nnk_config_avx2 = {.table = {.isa = NNK_ISA_AVX2}};
#endif
