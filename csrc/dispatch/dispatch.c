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

const nnk_kernel_table *nnk_kernels_for(nnk_isa isa)
{
  return (unsigned)isa < NNK_ISA_COUNT && configs[isa]->runs ? &configs[isa]->table : NULL;
}

static bool cpu_runs(nnk_isa isa) { return nnk_kernels_for(isa) && configs[isa]->runs(&cpu); }

static void detect(void)
{
  nnk_detect_cpu(&cpu);
  nnk_cpu_feature_string(&cpu, feature_string, sizeof feature_string);
  for (int i = NNK_ISA_COUNT - 1; i > NNK_ISA_SCALAR; i--)
    if (cpu_runs((nnk_isa)i)) {
      best_isa = (nnk_isa)i;
      break;
    }
  atomic_store(&current_table, nnk_kernels_for(best_isa));
}

static void ensure_detected(void) { pthread_once(&detect_once, detect); }

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
  atomic_store_explicit(&current_table, nnk_kernels_for(isa), memory_order_release);
  return NNK_OK;
}

nnk_status nnk_set_thread_isa(int isa)
{
  if (isa < 0) {
    thread_table = NULL;
    return NNK_OK;
  }
  if (!nnk_isa_available((nnk_isa)isa)) return NNK_EINVAL;
  thread_table = nnk_kernels_for((nnk_isa)isa);
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

