/*
 * Runtime dispatch: detect the CPU once, pick the best ISA, let callers switch.
 * Each ISA is a compile-time constant config (csrc/config/<isa>.c) from NNK_ISA_LIST.  The process default is
 * one atomic pointer, so a kernel call racing with a switch sees one whole table; a
 * thread may override it for itself (a thread-local pointer read first), so that
 * `with nnk.use_isa(...)` in one thread never changes what another thread runs.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "../config/config.h"
#include "cpu.h"
#include "nnk.h"
#include "nnk_kernels.h"

static pthread_once_t detect_once = PTHREAD_ONCE_INIT;
static nnk_cpu cpu;
static char feature_string[128];
static nnk_isa best_isa = NNK_ISA_SCALAR;
static _Atomic(const nnk_kernel_table *) current_table;
/* This thread's own choice over the process default; NULL: follow the default. */
static _Thread_local const nnk_kernel_table *thread_table;

#define CONFIG_(E, name) &nnk_config_##name,
#define NAME_(E, name) #name,
static const nnk_isa_config *const configs[NNK_ISA_COUNT] = {NNK_ISA_LIST(CONFIG_)};
static const char *const isa_names[NNK_ISA_COUNT] = {NNK_ISA_LIST(NAME_)};

/* Each config's table with the GEMM block sizes its rule gives for this CPU's caches. */
static nnk_kernel_table tables[NNK_ISA_COUNT];

static const nnk_kernel_table *table_of(nnk_isa isa)
{
  return (unsigned)isa < NNK_ISA_COUNT && configs[isa]->runs ? &tables[isa] : NULL;
}

static bool cpu_runs(nnk_isa isa) { return table_of(isa) && configs[isa]->runs(&cpu); }

static void size_blocks(const nnk_isa_config *config, nnk_kernel_table *t)
{
  *t = config->table;
  if (!config->gemm_blocks) return;
  nnk_f32_gemm_config *g32 = &t->f32.gemm;
  nnk_f64_gemm_config *g64 = &t->f64.gemm;
  const nnk_gemm_blocks_rule *rule = config->gemm_blocks;
  rule->sizes(cpu.cache, sizeof(float), g32->mr, g32->nr, &g32->mc, &g32->kc, &g32->nc, &g32->a_block);
  rule->sizes(cpu.cache, sizeof(double), g64->mr, g64->nr, &g64->mc, &g64->kc, &g64->nc, &g64->a_block);
  g32->blocks_rule = g64->blocks_rule = rule->name;
  /* Where C takes a quarter of L2 or less, each KC block's pass over it is cheap, and
   * the L1 model's KC (a B micro-panel stays in L1 across the tiles) serves better, what
   * the rule (for "l2": C from L3 or memory) says: csrc/gemm/blocking.c. */
  size_t mc, nc, a_block;
  nnk_gemm_blocks_l1.sizes(cpu.cache, sizeof(float), g32->mr, g32->nr, &mc, &g32->kc_c_in_l2, &nc, &a_block);
  nnk_gemm_blocks_l1.sizes(cpu.cache, sizeof(double), g64->mr, g64->nr, &mc, &g64->kc_c_in_l2, &nc, &a_block);
  if (g32->kc_c_in_l2 > g32->kc) g32->kc_c_in_l2 = g32->kc;
  if (g64->kc_c_in_l2 > g64->kc) g64->kc_c_in_l2 = g64->kc;
  g32->c_in_l2 = g64->c_in_l2 = cpu.cache[2].size / 4;
  g32->k_c_in_l2 = 4 * g32->kc_c_in_l2; /* k in four of its blocks or more */
  g64->k_c_in_l2 = 4 * g64->kc_c_in_l2;
  g32->l1_way = g64->l1_way = cpu.cache[1].size / cpu.cache[1].ways;
  g32->l3 = g64->l3 = cpu.cache[3].size;
}

static void detect(void)
{
  nnk_detect_cpu(&cpu);
  nnk_detect_caches(cpu.cache);
  nnk_cpu_feature_string(&cpu, feature_string, sizeof feature_string);
  for (int i = 0; i < NNK_ISA_COUNT; i++) size_blocks(configs[i], &tables[i]);
  for (int i = NNK_ISA_COUNT - 1; i > NNK_ISA_SCALAR; i--)
    if (cpu_runs((nnk_isa)i)) {
      best_isa = (nnk_isa)i;
      break;
    }
  atomic_store(&current_table, table_of(best_isa));
}

static void ensure_detected(void) { pthread_once(&detect_once, detect); }

const nnk_kernel_table *nnk_kernels_for(nnk_isa isa)
{
  ensure_detected();
  return table_of(isa);
}

size_t nnk_cache_size(int level, size_t *line, size_t *ways, const char **source)
{
  ensure_detected();
  const nnk_cache *c = &cpu.cache[level >= 1 && level <= 3 ? level : 0];
  if (line) *line = c->line;
  if (ways) *ways = c->ways;
  if (source) *source = c->source ? c->source : "";
  return c->size;
}

size_t nnk_cache_last(void)
{
  size_t l3 = nnk_cache_size(3, NULL, NULL, NULL);
  return l3 ? l3 : nnk_cache_size(2, NULL, NULL, NULL);
}

const nnk_kernel_table *nnk_kernels(void)
{
  const nnk_kernel_table *own = thread_table;
  if (own) return own;
  ensure_detected();
  return atomic_load_explicit(&current_table, memory_order_acquire);
}

const char *nnk_isa_name(nnk_isa isa)
{
  return (unsigned)isa < NNK_ISA_COUNT ? isa_names[isa] : "unknown";
}

int nnk_isa_from_name(const char *name)
{
  for (int i = 0; i < NNK_ISA_COUNT; i++)
    if (strcmp(name, isa_names[i]) == 0) return i;
  if (strcmp(name, NNK_ISA_AUTO_NAME) == 0) return (int)nnk_isa_best();
  return -1;
}

bool nnk_isa_available(nnk_isa isa)
{
  ensure_detected();
  return cpu_runs(isa);
}

nnk_isa nnk_isa_best(void)
{
  ensure_detected();
  return best_isa;
}

nnk_status nnk_set_isa(nnk_isa isa)
{
  if (!nnk_isa_available(isa)) return NNK_EINVAL;
  atomic_store_explicit(&current_table, table_of(isa), memory_order_release);
  return NNK_OK;
}

nnk_status nnk_set_thread_isa(int isa)
{
  if (isa < 0) {
    thread_table = NULL;
    return NNK_OK;
  }
  if (!nnk_isa_available((nnk_isa)isa)) return NNK_EINVAL;
  thread_table = table_of((nnk_isa)isa);
  return NNK_OK;
}

int nnk_thread_isa(void) { return thread_table ? (int)thread_table->isa : -1; }

nnk_isa nnk_get_isa(void) { return nnk_kernels()->isa; }

const char *nnk_cpu_features(void)
{
  ensure_detected();
  return feature_string;
}

const char *nnk_arch(void)
{
#if defined(__x86_64__)
  return "x86_64";
#elif defined(__aarch64__)
  return "aarch64";
#else
  return "unknown";
#endif
}

