/* What detection found; internal to dispatch. */
#ifndef NNK_CPU_H
#define NNK_CPU_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
  /* x86 */
  bool sse2, sse42, avx, avx2, fma, avx512f, osxsave, ymm_os, zmm_os;
  bool avx2_usable;   /* AVX2 + FMA + OS support for YMM state: the avx2 ISA can run */
  bool avx512_usable; /* that, AVX-512F and OS support for opmask and ZMM state */
  /* aarch64 */
  bool asimd;
} nnk_cpu;

void nnk_detect_cpu(nnk_cpu *cpu);
void nnk_cpu_feature_string(const nnk_cpu *cpu, char *buf, size_t size);

#endif
