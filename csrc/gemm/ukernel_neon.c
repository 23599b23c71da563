/*
 * NEON (AArch64 Advanced SIMD) GEMM microkernels.  FMLA by lane multiplies a B
 * vector by one A element held in a lane, so A is loaded as vectors, not broadcast.
 * f32 8x12: 24 accumulators + 2 A + 3 B = 29 of the 32 vector registers.
 * f64 4x8:  16 accumulators + 2 A + 4 B.
 */
#include <arm_neon.h>
#include <stddef.h>

#include "nnk_kernels.h"

void nnk_f32_gemm_ukernel_8x12__neon(size_t kc, float alpha, const float *a, const float *b,
                                     float beta, float *c, ptrdiff_t rs_c, const float *bias,
                                     nnk_gemm_ahead *ahead)
{
  (void)ahead; /* asks nothing ahead: not measured on an ARM core */
  float32x4_t acc[8][3];
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 3; j++) acc[i][j] = vdupq_n_f32(0);
  for (size_t p = 0; p < kc; p++) {
    float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
    float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8);
#define ROW(i, av, lane)                                                           \
  acc[i][0] = vfmaq_laneq_f32(acc[i][0], b0, av, lane);                            \
  acc[i][1] = vfmaq_laneq_f32(acc[i][1], b1, av, lane);                            \
  acc[i][2] = vfmaq_laneq_f32(acc[i][2], b2, av, lane);
    ROW(0, a0, 0) ROW(1, a0, 1) ROW(2, a0, 2) ROW(3, a0, 3)
    ROW(4, a1, 0) ROW(5, a1, 1) ROW(6, a1, 2) ROW(7, a1, 3)
#undef ROW
    a += 8;
    b += 12;
  }
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 3; j++) {
      float *cp = c + i * rs_c + 4 * j;
      float32x4_t r = vmulq_n_f32(acc[i][j], alpha);
      if (beta != 0) r = vfmaq_n_f32(r, vld1q_f32(cp), beta);
      if (bias) r = vaddq_f32(r, vld1q_f32(bias + 4 * j));
      vst1q_f32(cp, r);
    }
}

void nnk_f64_gemm_ukernel_4x8__neon(size_t kc, double alpha, const double *a, const double *b,
                                    double beta, double *c, ptrdiff_t rs_c, const double *bias,
                                    nnk_gemm_ahead *ahead)
{
  (void)ahead; /* asks nothing ahead: not measured on an ARM core */
  float64x2_t acc[4][4];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) acc[i][j] = vdupq_n_f64(0);
  for (size_t p = 0; p < kc; p++) {
    float64x2_t a0 = vld1q_f64(a), a1 = vld1q_f64(a + 2);
    float64x2_t b0 = vld1q_f64(b), b1 = vld1q_f64(b + 2), b2 = vld1q_f64(b + 4),
                b3 = vld1q_f64(b + 6);
#define ROW(i, av, lane)                                                           \
  acc[i][0] = vfmaq_laneq_f64(acc[i][0], b0, av, lane);                            \
  acc[i][1] = vfmaq_laneq_f64(acc[i][1], b1, av, lane);                            \
  acc[i][2] = vfmaq_laneq_f64(acc[i][2], b2, av, lane);                            \
  acc[i][3] = vfmaq_laneq_f64(acc[i][3], b3, av, lane);
    ROW(0, a0, 0) ROW(1, a0, 1) ROW(2, a1, 0) ROW(3, a1, 1)
#undef ROW
    a += 4;
    b += 8;
  }
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) {
      double *cp = c + i * rs_c + 2 * j;
      float64x2_t r = vmulq_n_f64(acc[i][j], alpha);
      if (beta != 0) r = vfmaq_n_f64(r, vld1q_f64(cp), beta);
      if (bias) r = vaddq_f64(r, vld1q_f64(bias + 2 * j));
      vst1q_f64(cp, r);
    }
}
