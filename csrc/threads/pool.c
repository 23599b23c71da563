/*
 * The thread pool (pool.h).  Why not OpenMP or pthreadpool: both decide how long an
 * idle thread spins when the library loads (libgomp from OMP_WAIT_POLICY/GOMP_SPINCOUNT,
 * Debian's pthreadpool at compile time: 1,000,000 pause instructions) and both spin for
 * milliseconds.  Two processes sharing two cores then spend most of their time spinning
 * on the core the other one needs.  Here a waiting thread spins for a fixed *time*
 * (NNK_POOL_SPIN_NS: a pause costs 10 cycles on one CPU and 140 on another, so an
 * iteration count would mean a different wait on each), then sleeps on a futex.
 *
 * Protocol: each worker waits on its own `go` event; the caller publishes the job,
 * bumps `go` of the workers it needs, runs its own share as tid 0 and waits for
 * `remaining` to reach zero.  Every wait is spin-then-sleep (event_wait_while).
 */
#define _GNU_SOURCE
#include "pool.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <time.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#define MAX_WORKERS 4095 /* nnk_set_num_threads allows 4096 */

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield" ::: "memory");
#endif
}

static uint64_t now_ns(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void futex_wait(_Atomic uint32_t *addr, uint32_t expected)
{
#if defined(__linux__)
  syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
#else
  (void)addr, (void)expected;
  struct timespec t = {0, 20000};
  nanosleep(&t, NULL);
#endif
}

static void futex_wake_all(_Atomic uint32_t *addr)
{
#if defined(__linux__)
  syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
  (void)addr;
#endif
}

/* Return once e->value != val: spin for NNK_POOL_SPIN_NS, then sleep. */
static void event_wait_while(nnk_event *e, uint32_t val)
{
  if (atomic_load(&e->value) != val) return;
  uint64_t start = now_ns();
  for (unsigned i = 1;; i++) {
    cpu_relax();
    if (atomic_load_explicit(&e->value, memory_order_acquire) != val) return;
    if (i % 32 == 0) {
      uint64_t spent = now_ns() - start;
      if (spent > NNK_POOL_SPIN_NS) break;
      if (spent > NNK_POOL_PAUSE_NS) sched_yield();
    }
  }
  /* Sequentially consistent: either the waker sees this sleeper, or this thread sees
   * the new value before it sleeps (and FUTEX_WAIT itself rechecks the value). */
  atomic_fetch_add(&e->sleepers, 1);
  while (atomic_load(&e->value) == val) futex_wait(&e->value, val);
  atomic_fetch_sub(&e->sleepers, 1);
}

/* After changing e->value (sequentially consistent), wake whoever sleeps on it. */
static void event_wake(nnk_event *e)
{
  if (atomic_load(&e->sleepers)) futex_wake_all(&e->value);
}

void nnk_barrier_wait(nnk_barrier *b)
{
  if (b->team <= 1) return;
  uint32_t phase = atomic_load(&b->phase.value);
  if (atomic_fetch_add(&b->arrived, 1) == (uint32_t)b->team - 1) {
    atomic_store(&b->arrived, 0);
    atomic_store(&b->phase.value, phase + 1);
    event_wake(&b->phase);
  } else {
    event_wait_while(&b->phase, phase);
  }
}

typedef struct {
  _Alignas(64) nnk_event go; /* bumped by the caller when this worker has work */
  int tid;
} worker;

static struct {
  pthread_mutex_t lock; /* one team at a time; callers take it with trylock */
  int started;          /* workers running */
  nnk_team_fn fn;       /* the current job */
  void *ctx;
  int team;
  nnk_barrier barrier;
  nnk_event remaining; /* workers of the current team still running */
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER};
static worker workers[MAX_WORKERS];
static pthread_once_t fork_handler_once = PTHREAD_ONCE_INIT;

static void *worker_main(void *arg)
{
  worker *w = arg;
  uint32_t seen = 0;
  for (;;) {
    event_wait_while(&w->go, seen);
    seen = atomic_load(&w->go.value);
    pool.fn(pool.ctx, w->tid, pool.team, &pool.barrier);
    if (atomic_fetch_sub(&pool.remaining.value, 1) == 1) event_wake(&pool.remaining);
  }
  return NULL;
}

/* A forked child has the parent's memory but none of its workers: start afresh. */
static void after_fork_in_child(void)
{
  pthread_mutex_init(&pool.lock, NULL);
  pool.started = 0;
  for (int i = 0; i < MAX_WORKERS; i++) {
    atomic_store(&workers[i].go.value, 0);
    atomic_store(&workers[i].go.sleepers, 0);
  }
}

static void register_fork_handler(void) { pthread_atfork(NULL, NULL, after_fork_in_child); }

/* Start workers until `want` run (fewer if the system refuses threads); returns how many
 * run.  Workers block every signal: signals are the calling threads' business. */
static int ensure_workers(int want)
{
  if (want > MAX_WORKERS) want = MAX_WORKERS;
  if (pool.started >= want) return want;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  while (pool.started < want) {
    worker *w = &workers[pool.started];
    w->tid = pool.started + 1;
    pthread_t t;
    if (pthread_create(&t, NULL, worker_main, w) != 0) break;
    pthread_detach(t);
    pool.started++;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return pool.started < want ? pool.started : want;
}

void nnk_parallel(int threads, nnk_team_fn fn, void *ctx)
{
  nnk_barrier alone = {.team = 1};
  if (threads <= 1 || pthread_mutex_trylock(&pool.lock) != 0) {
    fn(ctx, 0, 1, &alone);
    return;
  }
  pthread_once(&fork_handler_once, register_fork_handler);
  int team = ensure_workers(threads - 1) + 1;
  if (team == 1) {
    pthread_mutex_unlock(&pool.lock);
    fn(ctx, 0, 1, &alone);
    return;
  }
  pool.fn = fn, pool.ctx = ctx, pool.team = team;
  pool.barrier.team = team;
  atomic_store(&pool.barrier.arrived, 0);
  atomic_store(&pool.remaining.value, (uint32_t)team - 1);
  for (int i = 0; i < team - 1; i++) {
    atomic_fetch_add(&workers[i].go.value, 1);
    event_wake(&workers[i].go);
  }
  fn(ctx, 0, team, &pool.barrier);
  for (uint32_t r; (r = atomic_load(&pool.remaining.value)) != 0;)
    event_wait_while(&pool.remaining, r);
  pthread_mutex_unlock(&pool.lock);
}
