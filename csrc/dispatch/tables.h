/* The per-ISA tables and which ISAs this build compiles in (by target architecture). */
#ifndef NNK_TABLES_H
#define NNK_TABLES_H

#include "nnk_kernels.h"

#if defined(__x86_64__)
#define NNK_BUILD_AVX2 1
#define NNK_BUILD_AVX512 1
#else
#define NNK_BUILD_AVX2 0
#define NNK_BUILD_AVX512 0
#endif
#if defined(__aarch64__)
#define NNK_BUILD_NEON 1
#else
#define NNK_BUILD_NEON 0
#endif

extern const nnk_kernel_table nnk_table_scalar;
#if NNK_BUILD_AVX2
extern const nnk_kernel_table nnk_table_avx2;
#endif
#if NNK_BUILD_AVX512
extern const nnk_kernel_table nnk_table_avx512;
#endif
#if NNK_BUILD_NEON
extern const nnk_kernel_table nnk_table_neon;
#endif

#endif
