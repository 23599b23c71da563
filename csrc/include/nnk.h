/*
 * nnk — neural-network kernels: the public C API.
 *
 * Everything here is plain C: no Python, no allocation visible to callers beyond
 * what a function documents.  Matrices are row-major; sizes are size_t.
 * Functions that can fail return an nnk_status.
 */
#ifndef NNK_H
#define NNK_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  NNK_OK = 0,
  NNK_ENOMEM = 1,  /* a workspace allocation failed */
  NNK_EINVAL = 2,  /* an argument is out of its domain (e.g. ld < row length) */
} nnk_status;

/* ---- Instruction sets and dispatch ------------------------------------ */

/* The instruction sets nnk has kernels for, in order of preference (the last one the
 * CPU runs is the default): X(ENUM, name).  The one list: the enum, every ISA name C
 * and Python print or accept, and dispatch's array of configs (csrc/config/<name>.c,
 * each with its kernel table, GEMM configuration and runs(cpu) predicate) come from it.
 *   scalar  portable C reference: the oracle every SIMD path is tested against
 *   avx2    x86-64 with AVX2 + FMA and OS-enabled YMM state
 *   neon    aarch64 Advanced SIMD
 *   avx512  x86-64 with AVX-512F (and AVX2 + FMA) and OS-enabled ZMM state */
#define NNK_ISA_LIST(X)                                                                   \
  X(SCALAR, scalar)                                                                       \
  X(AVX2, avx2)                                                                           \
  X(NEON, neon)                                                                           \
  X(AVX512, avx512)

#define NNK_ISA_ENUM_(E, name) NNK_ISA_##E,
typedef enum { NNK_ISA_LIST(NNK_ISA_ENUM_) NNK_ISA_COUNT } nnk_isa;

/* "auto" names the best ISA the CPU runs, wherever an ISA is chosen by name. */
#define NNK_ISA_AUTO_NAME "auto"

/* The ISA's name, from NNK_ISA_LIST: the one list every message and binding uses. */
const char *nnk_isa_name(nnk_isa isa);
/* The ISA of a name (NNK_ISA_AUTO_NAME: the best one); -1 when nnk knows no such name. */
int nnk_isa_from_name(const char *name);
/* Whether this build contains the ISA's kernels and this CPU can run them. */
bool nnk_isa_available(nnk_isa isa);
/* The best available ISA (detected once, thread-safely). */
nnk_isa nnk_isa_best(void);
/* Switch the process-wide default kernel table; NNK_EINVAL if not available. */
nnk_status nnk_set_isa(nnk_isa isa);
/* Override the default for the calling thread only (isa < 0: follow the default again);
 * NNK_EINVAL if not available.  nnk_thread_isa() is the override, or -1. */
nnk_status nnk_set_thread_isa(int isa);
int nnk_thread_isa(void);
/* The ISA whose kernels the calling thread runs. */
nnk_isa nnk_get_isa(void);
/* Space-separated list of the CPU features detection found (e.g. "sse2 avx avx2 fma osxsave"). */
const char *nnk_cpu_features(void);
/* The size in bytes of the level-1 data (level 1), L2 or L3 cache as one core sees it,
 * with its line size, associativity and source ("cpuid", "sysfs" or "default"): what
 * GEMM's block sizes are derived from.  0 for other levels. */
size_t nnk_cache_size(int level, size_t *line, size_t *ways, const char **source);
/* The size in bytes of the last level of those this CPU reports (L3, else L2; 0 when
 * neither is known): what an operand must outgrow to come from memory. */
size_t nnk_cache_last(void);
const char *nnk_arch(void);

/* ---- Threads ---------------------------------------------------------- */

#define NNK_MAX_THREADS 4096

/* Threads used by kernels that parallelise (GEMM).  Default, the first that is set:
 * NNK_NUM_THREADS, OMP_NUM_THREADS, else the CPUs this process may run on (affinity
 * mask and cgroup v2 CPU quota).  Workers wait by spinning briefly, then sleeping. */
void nnk_set_num_threads(int n);
int nnk_get_num_threads(void);
/* Where the current number came from (an environment variable, the CPUs, a call). */
const char *nnk_num_threads_source(void);
/* Why a thread variable of the environment was ignored, or "" when none was. */
const char *nnk_num_threads_warning(void);
/* CPUs in this process's affinity mask. */
int nnk_cpus_allowed(void);
/* cgroup v2 CPU limit (quota / period rounded up, the tightest of the process's cgroup
 * and its ancestors) read below `root` for the cgroup named in `self_cgroup` (normally
 * "/sys/fs/cgroup" and "/proc/self/cgroup"); 0 when there is none. */
int nnk_cgroup_cpu_limit(const char *root, const char *self_cgroup);

/* ---- GEMM ------------------------------------------------------------- */
/*
 * C := alpha * op(A) @ op(B) + beta * C, BLAS semantics, row-major.
 * op(A) is m×k, op(B) is k×n, C is m×n.  lda/ldb/ldc are leading dimensions
 * (elements between rows) and must be at least the stored row length.
 * k == 0 or alpha == 0 scales C by beta; beta == 0 overwrites C without reading it
 * (NaN in C does not propagate).
 */
nnk_status nnk_sgemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
                     const float *a, size_t lda, const float *b, size_t ldb, float beta,
                     float *c, size_t ldc);
nnk_status nnk_dgemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, double alpha,
                     const double *a, size_t lda, const double *b, size_t ldb, double beta,
                     double *c, size_t ldc);

/*
 * The general form behind both: op(A)(i,p) = a[i*rs_a + p*cs_a], and likewise for B
 * and C (strides in elements, any sign).  This is what lets the Python binding take
 * transposed or sliced NumPy views without copying.
 */
nnk_status nnk_sgemm_strided(size_t m, size_t n, size_t k, float alpha, const float *a,
                             ptrdiff_t rs_a, ptrdiff_t cs_a, const float *b, ptrdiff_t rs_b,
                             ptrdiff_t cs_b, float beta, float *c, ptrdiff_t rs_c, ptrdiff_t cs_c);
nnk_status nnk_dgemm_strided(size_t m, size_t n, size_t k, double alpha, const double *a,
                             ptrdiff_t rs_a, ptrdiff_t cs_a, const double *b, ptrdiff_t rs_b,
                             ptrdiff_t cs_b, double beta, double *c, ptrdiff_t rs_c,
                             ptrdiff_t cs_c);

#ifdef __cplusplus
}
#endif
#endif /* NNK_H */
