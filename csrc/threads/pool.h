/*
 * nnk's thread pool: one per process, teams of the calling thread plus workers that
 * spin briefly and then sleep on a futex, so that an idle or waiting worker gives its
 * core back to whoever needs it (another process included).  Plain C, no OpenMP.
 */
#ifndef NNK_POOL_H
#define NNK_POOL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* A value threads wait on: they spin, then sleep on it until it changes. */
typedef struct {
  _Atomic uint32_t value;
  _Atomic uint32_t sleepers; /* a waker makes the system call only when someone sleeps */
} nnk_event;

/* A reusable barrier for one team. */
typedef struct {
  _Atomic uint32_t arrived;
  nnk_event phase;
  int team;
} nnk_barrier;

/* One member's work: tid in [0, team); the calling thread is tid 0. */
typedef void (*nnk_team_fn)(void *ctx, int tid, int team, nnk_barrier *barrier);

/* Run fn on a team of up to `threads` threads and return when every member has
 * returned.  One team runs at a time: a caller that finds the pool busy (another
 * thread's call) runs fn alone, as a team of one. */
void nnk_parallel(int threads, nnk_team_fn fn, void *ctx);

/* Wait until every member of the team has reached this barrier. */
void nnk_barrier_wait(nnk_barrier *b);

/* Member tid's even share [*lo, *hi) of `count` items (shares differ by at most one). */
static inline void nnk_share(size_t count, int tid, int team, size_t *lo, size_t *hi)
{
  *lo = count * (size_t)tid / (size_t)team;
  *hi = count * (size_t)(tid + 1) / (size_t)team;
}

/* How long a waiting thread spins before it sleeps, in nanoseconds (see pool.c). */
#ifndef NNK_POOL_SPIN_NS
#define NNK_POOL_SPIN_NS 50000
#endif
#ifndef NNK_POOL_PAUSE_NS
#define NNK_POOL_PAUSE_NS 2000
#endif

#endif
