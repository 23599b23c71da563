/*
 * avx512: x86-64 with AVX-512F (and the AVX2 + FMA every such CPU has), opmask and ZMM
 * state saved by the OS.
 *
 * GEMM tiles 8 x 32 (f32) and 8 x 16 (f64): sixteen ZMM accumulators of 32, a tile 2.7x
 * AVX2's for the same loop overhead; 8 rows divide the sizes networks use.  Direct
 * tiles take any width through masks (direct_any_width).  Block sizes from the CPU's
 * caches at run time by the "l2" rule (csrc/gemm/blocking.c): a tile two cache lines
 * wide per k step streams B from L2 at its full rate, and a KC bound by L1 would make
 * too many passes over C.
 */
#include "config.h"

#if defined(__x86_64__)
NNK_DECLARE_ISA_KERNELS(avx512)
void nnk_f32_gemm_pack__avx512 NNK_SIG_GEMM_PACK(float);
void nnk_f64_gemm_pack__avx512 NNK_SIG_GEMM_PACK(double);
void nnk_f32_gemm_ukernel_8x32__avx512 NNK_SIG_GEMM_UKERNEL(float);
void nnk_f64_gemm_ukernel_8x16__avx512 NNK_SIG_GEMM_UKERNEL(double);
void nnk_f32_gemm_direct_8x32__avx512 NNK_SIG_GEMM_DIRECT(float);
void nnk_f32_gemm_edge_8x32__avx512 NNK_SIG_GEMM_EDGE(float);
void nnk_f64_gemm_edge_8x16__avx512 NNK_SIG_GEMM_EDGE(double);
void nnk_f64_gemm_direct_8x16__avx512 NNK_SIG_GEMM_DIRECT(double);

static bool runs(const nnk_cpu *cpu)
{
  return cpu->avx && cpu->avx2 && cpu->fma && cpu->ymm_os && cpu->avx512f && cpu->zmm_os;
}

const nnk_isa_config nnk_config_avx512 = {
  .runs = runs,
  .gemm_blocks = &nnk_gemm_blocks_l2,
  .table = {
    .isa = NNK_ISA_AVX512,
    .f32 = {NNK_DTYPE_TABLE(f32, avx512), NNK_DTYPE_TABLE_NT(f32, avx512),
            .gemm = {.mr = 8, .nr = 32, .ukernel = nnk_f32_gemm_ukernel_8x32__avx512,
                     .edge = nnk_f32_gemm_edge_8x32__avx512,
                     .pack = nnk_f32_gemm_pack__avx512,
                     .direct = nnk_f32_gemm_direct_8x32__avx512, .direct_any_width = true,
                     NNK_GEMM_THRESHOLDS}},
    .f64 = {NNK_DTYPE_TABLE(f64, avx512), NNK_DTYPE_TABLE_NT(f64, avx512),
            .gemm = {.mr = 8, .nr = 16, .ukernel = nnk_f64_gemm_ukernel_8x16__avx512,
                     .edge = nnk_f64_gemm_edge_8x16__avx512,
                     .pack = nnk_f64_gemm_pack__avx512,
                     .direct = nnk_f64_gemm_direct_8x16__avx512, .direct_any_width = true,
                     NNK_GEMM_THRESHOLDS}},
  },
};
#else
const nnk_isa_config nnk_config_avx512 = {.table = {.isa = NNK_ISA_AVX512}};
#endif
