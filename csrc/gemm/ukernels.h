/*
 * GEMM microkernels per ISA and the block sizes they run with.
 *
 * Block sizes for AVX2 are chosen for Zen-class caches (32 KiB L1d, 512 KiB-1 MiB L2,
 * shared L3), following BLIS's Haswell/Zen choices:
 *   KC: one B micro-panel (KC x NR) stays in L1:   f32 256*16*4 = 16 KiB, f64 256*8*8 = 16 KiB
 *   MC: the packed A block (MC x KC) stays in L2:  f32 168*256*4 = 168 KiB, f64 72*256*8 = 144 KiB
 *   NC: the packed B panel (KC x NC) lives in L3:  f32 256*4080*4 = 4 MiB,  f64 256*4080*8 = 8 MiB
 * NEON tiles use the 32 128-bit registers: f32 8x12 (24 accumulators), f64 4x8 (16).
 */
#ifndef NNK_GEMM_UKERNELS_H
#define NNK_GEMM_UKERNELS_H

#include <stddef.h>

void nnk_f32_gemm_ukernel_6x16__avx2(size_t kc, float alpha, const float *a, const float *b,
                                     float beta, float *c, ptrdiff_t rs_c);
void nnk_f64_gemm_ukernel_6x8__avx2(size_t kc, double alpha, const double *a, const double *b,
                                    double beta, double *c, ptrdiff_t rs_c);
void nnk_f32_gemm_direct_6x16__avx2(size_t mb, size_t nb, size_t kc, float alpha,
                                    const float *a, ptrdiff_t rs_a, const float *b,
                                    ptrdiff_t rs_b, float beta, float *c, ptrdiff_t rs_c);
void nnk_f64_gemm_direct_6x8__avx2(size_t mb, size_t nb, size_t kc, double alpha,
                                   const double *a, ptrdiff_t rs_a, const double *b,
                                   ptrdiff_t rs_b, double beta, double *c, ptrdiff_t rs_c);
void nnk_f32_gemm_ukernel_8x32__avx512(size_t kc, float alpha, const float *a, const float *b,
                                       float beta, float *c, ptrdiff_t rs_c);
void nnk_f64_gemm_ukernel_8x16__avx512(size_t kc, double alpha, const double *a,
                                       const double *b, double beta, double *c, ptrdiff_t rs_c);
void nnk_f32_gemm_direct_8x32__avx512(size_t mb, size_t nb, size_t kc, float alpha,
                                      const float *a, ptrdiff_t rs_a, const float *b,
                                      ptrdiff_t rs_b, float beta, float *c, ptrdiff_t rs_c);
void nnk_f64_gemm_direct_8x16__avx512(size_t mb, size_t nb, size_t kc, double alpha,
                                      const double *a, ptrdiff_t rs_a, const double *b,
                                      ptrdiff_t rs_b, double beta, double *c, ptrdiff_t rs_c);
void nnk_f32_gemm_ukernel_8x12__neon(size_t kc, float alpha, const float *a, const float *b,
                                     float beta, float *c, ptrdiff_t rs_c);
void nnk_f64_gemm_ukernel_4x8__neon(size_t kc, double alpha, const double *a, const double *b,
                                    double beta, double *c, ptrdiff_t rs_c);

/* {mr, nr, mc, kc, nc, ukernel, direct, direct_any_width} */
#define NNK_F32_GEMM_CONFIG_AVX2                                                   \
  {6, 16, 168, 256, 4080, nnk_f32_gemm_ukernel_6x16__avx2, nnk_f32_gemm_direct_6x16__avx2, 0}
#define NNK_F64_GEMM_CONFIG_AVX2                                                   \
  {6, 8, 72, 256, 4080, nnk_f64_gemm_ukernel_6x8__avx2, nnk_f64_gemm_direct_6x8__avx2, 0}
#define NNK_F32_GEMM_CONFIG_AVX512                                                 \
  {8, 32, 160, 256, 4096, nnk_f32_gemm_ukernel_8x32__avx512, nnk_f32_gemm_direct_8x32__avx512, 1}
#define NNK_F64_GEMM_CONFIG_AVX512                                                 \
  {8, 16, 96, 256, 4096, nnk_f64_gemm_ukernel_8x16__avx512, nnk_f64_gemm_direct_8x16__avx512, 1}
#define NNK_F32_GEMM_CONFIG_NEON {8, 12, 120, 256, 4080, nnk_f32_gemm_ukernel_8x12__neon, NULL, 0}
#define NNK_F64_GEMM_CONFIG_NEON {4, 8, 64, 256, 4080, nnk_f64_gemm_ukernel_4x8__neon, NULL, 0}

/* The largest tile any ISA uses: edge tiles are computed into a buffer this big. */
#define NNK_GEMM_MAX_MR 8
#define NNK_GEMM_MAX_NR 32

#endif
