/* What detection found: the bits each ISA's runs(cpu) predicate reads (csrc/config/). */
#ifndef NNK_CPU_H
#define NNK_CPU_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
  /* x86 */
  bool sse2, sse42, avx, avx2, fma, avx512f, osxsave;
  bool ymm_os, zmm_os; /* the OS saves YMM, and opmask + ZMM, state (XCR0) */
  /* aarch64 */
  bool asimd;
} nnk_cpu;

void nnk_detect_cpu(nnk_cpu *cpu);
void nnk_cpu_feature_string(const nnk_cpu *cpu, char *buf, size_t size);

#endif
