/* nnk_sgemm / nnk_dgemm: argument checks, trivial cases, and the blocked driver. */
#include <stdint.h>
#include <stdlib.h>

#include "../threads/pool.h"
#include "nnk.h"
#include "nnk_kernels.h"
#include "ukernels.h"

/* Up to this m*n*k the reference loops win: even the direct tiles' set-up costs more
 * than the arithmetic (measured with bench/gemm_bench: equal at 4^3, tiles ahead from 6^3;
 * the sheets' 2x2 and 4x4 take this path). */
#ifndef NNK_GEMM_SMALL_MNK
#define NNK_GEMM_SMALL_MNK (5.0 * 5.0 * 5.0)
#endif
/* Up to this m*n*k (and k <= KC), an ISA with a direct kernel skips packing: the
 * operands fit in L1/L2 and packing them costs more than strided reads (bench/gemm). */
#ifndef NNK_GEMM_DIRECT_MNK
#define NNK_GEMM_DIRECT_MNK (160.0 * 160.0 * 160.0)
#endif
/* From this m*n*k on, threads pay for their start-up (about 2 ms of work on one core). */
#define NNK_GEMM_THREADS_MNK (192.0 * 192.0 * 192.0)

#define T float
#define FN(name) nnk_f32_##name
#define PUBLIC(name) nnk_s##name
#define CONFIG nnk_f32_gemm_config
#define TABLE_GEMM f32_gemm
#define REF nnk_f32_gemm_ref__scalar
#include "gemm_impl.h"
#undef T
#undef FN
#undef PUBLIC
#undef CONFIG
#undef TABLE_GEMM
#undef REF

#define T double
#define FN(name) nnk_f64_##name
#define PUBLIC(name) nnk_d##name
#define CONFIG nnk_f64_gemm_config
#define TABLE_GEMM f64_gemm
#define REF nnk_f64_gemm_ref__scalar
#include "gemm_impl.h"
