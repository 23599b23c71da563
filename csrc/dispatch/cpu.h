/* What detection found: the bits each ISA's runs(cpu) predicate reads (csrc/config/). */
#ifndef NNK_CPU_H
#define NNK_CPU_H

#include <stdbool.h>
#include <stddef.h>

/* One data (or unified) cache: size in bytes, line size, associativity, sets, and where
 * the figures came from ("cpuid", "sysfs" or "default"). */
typedef struct {
  size_t size, line, ways, sets;
  const char *source;
} nnk_cache;

typedef struct {
  nnk_cache cache[4]; /* [1] L1 data, [2] L2, [3] L3 (as one core sees them) */
  /* x86 */
  bool sse2, sse42, avx, avx2, fma, avx512f, osxsave;
  bool ymm_os, zmm_os; /* the OS saves YMM, and opmask + ZMM, state (XCR0) */
  /* aarch64 */
  bool asimd;
} nnk_cpu;

void nnk_detect_cpu(nnk_cpu *cpu);
/* Fills levels 1-3 of caches (4 entries), from CPUID, sysfs or defaults (caches.c). */
void nnk_detect_caches(nnk_cache *caches);
void nnk_cpu_feature_string(const nnk_cpu *cpu, char *buf, size_t size);

#endif
