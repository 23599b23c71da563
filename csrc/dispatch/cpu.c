/*
 * CPU feature detection.  Compiled without ISA flags: it runs before anyone knows
 * whether AVX2 exists.  On x86 a feature bit is not enough: the OS must also save
 * the YMM registers on context switch (OSXSAVE + XCR0 bits 1 and 2), and for AVX-512
 * the opmask and ZMM registers too (XCR0 bits 5, 6 and 7), as NumPy checks.
 */
#include "cpu.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long read_xcr0(void)
{
  unsigned int lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((unsigned long long)hi << 32) | lo;
}

void nnk_detect_cpu(nnk_cpu *cpu)
{
  memset(cpu, 0, sizeof *cpu);
  unsigned int a, b, c, d;
  if (__get_cpuid(1, &a, &b, &c, &d)) {
    cpu->sse2 = (d >> 26) & 1;
    cpu->sse42 = (c >> 20) & 1;
    cpu->fma = (c >> 12) & 1;
    cpu->osxsave = (c >> 27) & 1;
    cpu->avx = (c >> 28) & 1;
  }
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    cpu->avx2 = (b >> 5) & 1;
    cpu->avx512f = (b >> 16) & 1;
  }
  if (cpu->osxsave) {
    unsigned long long xcr0 = read_xcr0();
    cpu->ymm_os = (xcr0 & 0x6) == 0x6;
    cpu->zmm_os = (xcr0 & 0xe6) == 0xe6;
  }
  /* The compiler's own check (libgcc also tests XCR0) must agree with ours. */
  __builtin_cpu_init();
  cpu->avx2 &= __builtin_cpu_supports("avx2") != 0;
  cpu->fma &= __builtin_cpu_supports("fma") != 0;
  cpu->avx512f &= __builtin_cpu_supports("avx512f") != 0;
}

void nnk_cpu_feature_string(const nnk_cpu *cpu, char *buf, size_t size)
{
  buf[0] = '\0';
  struct { bool on; const char *name; } f[] = {
    {cpu->sse2, "sse2"}, {cpu->sse42, "sse4.2"}, {cpu->avx, "avx"}, {cpu->avx2, "avx2"},
    {cpu->fma, "fma"}, {cpu->avx512f, "avx512f"}, {cpu->osxsave, "osxsave"},
    {cpu->ymm_os, "ymm_os"}, {cpu->zmm_os, "zmm_os"},
  };
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
    if (!f[i].on) continue;
    if (buf[0]) strncat(buf, " ", size - strlen(buf) - 1);
    strncat(buf, f[i].name, size - strlen(buf) - 1);
  }
}

#elif defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif

void nnk_detect_cpu(nnk_cpu *cpu)
{
  memset(cpu, 0, sizeof *cpu);
  cpu->asimd = (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
}

void nnk_cpu_feature_string(const nnk_cpu *cpu, char *buf, size_t size)
{
  buf[0] = '\0';
  if (cpu->asimd) strncat(buf, "asimd", size - 1);
}

#else
void nnk_detect_cpu(nnk_cpu *cpu) { memset(cpu, 0, sizeof *cpu); }
void nnk_cpu_feature_string(const nnk_cpu *cpu, char *buf, size_t size)
{
  (void)cpu;
  if (size) buf[0] = '\0';
}
#endif
