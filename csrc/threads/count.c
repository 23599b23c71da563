/*
 * How many threads nnk's parallel kernels use, and where that number came from.
 * Default, the first that is set: NNK_NUM_THREADS, OMP_NUM_THREADS (its first field: the
 * outermost level), else the CPUs this process may run on: its affinity mask (taskset,
 * an MPI launcher's binding) and its cgroup v2 CPU quota rounded up (a container's
 * --cpus), the tighter of the two.  A variable that is not a positive integer is skipped
 * with a warning (nnk_num_threads_warning) naming it and what was used instead.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnk.h"

static pthread_once_t chosen_once = PTHREAD_ONCE_INIT;
static atomic_int num_threads;
static char source[192];
static char warning[384];

/* A whole number in [1, NNK_MAX_THREADS] in s[0, len), spaces around it allowed; else 0. */
static int parse_count(const char *s, size_t len)
{
  char buf[32];
  while (len && (*s == ' ' || *s == '\t')) s++, len--;
  while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
  if (len == 0 || len >= sizeof buf) return 0;
  memcpy(buf, s, len);
  buf[len] = '\0';
  char *end;
  errno = 0;
  long n = strtol(buf, &end, 10);
  if (errno || *end || n < 1 || n > NNK_MAX_THREADS) return 0;
  return (int)n;
}

int nnk_cpus_allowed(void)
{
#if defined(__linux__)
  for (int ncpu = 1024; ncpu <= (1 << 16); ncpu *= 2) { /* masks beyond 1024 CPUs too */
    cpu_set_t *set = CPU_ALLOC(ncpu);
    if (!set) break;
    size_t size = CPU_ALLOC_SIZE(ncpu);
    int ok = sched_getaffinity(0, size, set) == 0;
    int n = ok ? CPU_COUNT_S(size, set) : 0;
    CPU_FREE(set);
    if (ok) return n > 0 ? n : 1;
    if (errno != EINVAL) break;
  }
#endif
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

/* cpu.max of one cgroup directory as a CPU count (quota / period rounded up), or 0. */
static int cpu_max_limit(const char *dir)
{
  char file[8400], text[64];
  snprintf(file, sizeof file, "%s/cpu.max", dir);
  FILE *f = fopen(file, "r");
  if (!f) return 0;
  char *got = fgets(text, sizeof text, f);
  fclose(f);
  long long quota, period;
  if (!got || sscanf(text, "%lld %lld", &quota, &period) != 2 || quota <= 0 || period <= 0)
    return 0; /* "max": no limit */
  long long cpus = (quota + period - 1) / period;
  return cpus > NNK_MAX_THREADS ? NNK_MAX_THREADS : (int)cpus;
}

int nnk_cgroup_cpu_limit(const char *root, const char *self_cgroup)
{
  FILE *f = fopen(self_cgroup, "r");
  if (!f) return 0;
  char line[4096], path[4096] = "";
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "0::", 3) == 0) { /* the cgroup v2 line */
      snprintf(path, sizeof path, "%s", line + 3);
      path[strcspn(path, "\n")] = '\0';
      break;
    }
  fclose(f);
  if (path[0] != '/') return 0;
  int tightest = 0;
  for (;;) { /* the process's cgroup and every ancestor: the tightest quota holds */
    char dir[8200];
    snprintf(dir, sizeof dir, "%s%s", root, strcmp(path, "/") ? path : "");
    int limit = cpu_max_limit(dir);
    if (limit && (!tightest || limit < tightest)) tightest = limit;
    char *slash = strrchr(path, '/');
    if (!slash || slash == path) {
      if (strcmp(path, "/") == 0) break;
      strcpy(path, "/");
    } else {
      *slash = '\0';
    }
  }
  return tightest;
}

static void choose_default(void)
{
  static const char *const vars[] = {"NNK_NUM_THREADS", "OMP_NUM_THREADS"};
  size_t w = 0;
  int n = 0;
  for (int i = 0; i < 2 && !n; i++) {
    const char *v = getenv(vars[i]);
    if (!v || !*v) continue;
    n = parse_count(v, i == 1 ? strcspn(v, ",") : strlen(v));
    if (n)
      snprintf(source, sizeof source, "%s", vars[i]);
    else if (w < sizeof warning)
      w += (size_t)snprintf(warning + w, sizeof warning - w,
                            "%s%s='%.40s' is not a whole number from 1 to %d, so it is ignored",
                            w ? "; " : "", vars[i], v, NNK_MAX_THREADS);
  }
  if (!n) {
    int cpus = nnk_cpus_allowed();
    int quota = nnk_cgroup_cpu_limit("/sys/fs/cgroup", "/proc/self/cgroup");
    if (quota && quota < cpus) {
      n = quota;
      snprintf(source, sizeof source, "the cgroup CPU quota, cpu.max, below the %d CPUs of the affinity mask",
               cpus);
    } else {
      n = cpus;
      snprintf(source, sizeof source, "the CPUs this process may run on: its affinity mask");
    }
  }
  if (w && w < sizeof warning)
    snprintf(warning + w, sizeof warning - w, "; nnk uses %d threads, from %s", n, source);
  atomic_store(&num_threads, n);
}

static void ensure_chosen(void) { pthread_once(&chosen_once, choose_default); }

void nnk_set_num_threads(int n)
{
  ensure_chosen();
  atomic_store(&num_threads, n < 1 ? 1 : n > NNK_MAX_THREADS ? NNK_MAX_THREADS : n);
  snprintf(source, sizeof source, "set_num_threads");
}

int nnk_get_num_threads(void)
{
  ensure_chosen();
  return atomic_load(&num_threads);
}

const char *nnk_num_threads_source(void)
{
  ensure_chosen();
  return source;
}

const char *nnk_num_threads_warning(void)
{
  ensure_chosen();
  return warning;
}
