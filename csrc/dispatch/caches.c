/*
 * The data caches of the CPU nnk runs on, for GEMM's block sizes (csrc/gemm/blocking.c).
 * x86: the deterministic cache parameters of CPUID (leaf 4 on Intel, 0x8000001D on AMD
 * with topology extensions), which containers and VMs pass through; elsewhere, or when
 * CPUID says nothing, Linux's sysfs for cpu0; failing both, a typical core of today
 * (each cache then says "default").  Compiled without ISA flags.
 */
#include <stdio.h>
#include <string.h>

#include "cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/* Levels 1 (data), 2 and 3 from a leaf-4-style CPUID leaf; false when it has none. */
static bool from_cpuid(nnk_cache *caches)
{
  unsigned a, b, c, d, leaf = 4;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return false;
  if (b == 0x68747541) { /* "Auth"enticAMD: leaf 0x8000001D needs topology extensions */
    if (__get_cpuid_max(0x80000000, NULL) < 0x8000001D || !__get_cpuid(0x80000001, &a, &b, &c, &d) ||
        !((c >> 22) & 1))
      return false;
    leaf = 0x8000001D;
  } else if (a < 4) {
    return false;
  }
  bool found = false;
  for (unsigned i = 0; i < 16; i++) {
    __cpuid_count(leaf, i, a, b, c, d);
    unsigned type = a & 0x1f, level = (a >> 5) & 7;
    if (type == 0) break;
    if (type == 2 || level < 1 || level > 3) continue; /* instruction caches, L4 */
    nnk_cache *k = &caches[level];
    k->line = (b & 0xfff) + 1;
    k->ways = ((b >> 22) & 0x3ff) + 1;
    k->sets = (size_t)c + 1;
    k->size = k->line * k->ways * (((b >> 12) & 0x3ff) + 1) * k->sets;
    k->source = "cpuid";
    found = true;
  }
  return found;
}
#else
static bool from_cpuid(nnk_cache *caches)
{
  (void)caches;
  return false;
}
#endif

static long read_number(const char *dir, const char *file)
{
  char path[160], text[64];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  long v = -1;
  if (fgets(text, sizeof text, f)) {
    char unit = 0;
    if (sscanf(text, "%ld%c", &v, &unit) >= 1 && (unit == 'K' || unit == 'k')) v *= 1024;
    else if (unit == 'M') v *= 1024 * 1024;
  }
  fclose(f);
  return v;
}

static bool from_sysfs(nnk_cache *caches)
{
  bool found = false;
  for (int i = 0; i < 8; i++) {
    char dir[96], type[32] = "";
    snprintf(dir, sizeof dir, "/sys/devices/system/cpu/cpu0/cache/index%d", i);
    char path[128];
    snprintf(path, sizeof path, "%s/type", dir);
    FILE *f = fopen(path, "r");
    if (!f) break;
    if (!fgets(type, sizeof type, f)) type[0] = '\0';
    fclose(f);
    long level = read_number(dir, "level");
    if (strncmp(type, "Instruction", 11) == 0 || level < 1 || level > 3) continue;
    long size = read_number(dir, "size"), line = read_number(dir, "coherency_line_size"),
         ways = read_number(dir, "ways_of_associativity");
    if (size <= 0 || line <= 0 || ways <= 0) continue;
    nnk_cache *k = &caches[level];
    k->size = (size_t)size, k->line = (size_t)line, k->ways = (size_t)ways;
    k->sets = k->size / (k->line * k->ways);
    k->source = "sysfs";
    found = true;
  }
  return found;
}

void nnk_detect_caches(nnk_cache *caches)
{
  /* A typical core of today, for whatever the machine does not say. */
  static const nnk_cache fallback[4] = {
    {0}, {32 << 10, 64, 8, 64, "default"}, {512 << 10, 64, 8, 1024, "default"},
    {8 << 20, 64, 16, 8192, "default"}};
  memset(caches, 0, 4 * sizeof *caches);
  if (!from_cpuid(caches)) from_sysfs(caches);
  for (int level = 1; level <= 3; level++)
    if (!caches[level].size || !caches[level].ways || !caches[level].line || !caches[level].sets)
      caches[level] = fallback[level];
}
