/* nnk_sgemm / nnk_dgemm: argument checks, trivial cases, and the blocked driver; the
 * current ISA's GEMM configuration (csrc/config/<isa>.c) picks the path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../threads/pool.h"
#include "nnk.h"
#include "gemm.h"
#include "nnk_kernels.h"
#include "workspace.h"

#define T float
#define FN(name) nnk_f32_##name
#define PUBLIC(name) nnk_s##name
#define CONFIG nnk_f32_gemm_config
#define TABLE_GEMM f32.gemm
#define TABLE_DT f32
#define TABLE_KERNELS nnk_f32_kernels
#define REF nnk_f32_gemm_ref__scalar
#include "gemm_impl.h"
#undef T
#undef FN
#undef PUBLIC
#undef CONFIG
#undef TABLE_GEMM
#undef TABLE_DT
#undef TABLE_KERNELS
#undef REF

#define T double
#define FN(name) nnk_f64_##name
#define PUBLIC(name) nnk_d##name
#define CONFIG nnk_f64_gemm_config
#define TABLE_GEMM f64.gemm
#define TABLE_DT f64
#define TABLE_KERNELS nnk_f64_kernels
#define REF nnk_f64_gemm_ref__scalar
#include "gemm_impl.h"
