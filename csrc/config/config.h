/*
 * One ISA's description, as BLIS's configurations are: csrc/config/<isa>.c defines
 * nnk_config_<isa> with its kernel table (from the lists in nnk_kernels.h), its GEMM
 * configuration (tile, block sizes, size thresholds) and the predicate that says
 * whether a CPU runs it.  Dispatch walks NNK_ISA_LIST over these.
 *
 * Config files are compiled without ISA flags (they take addresses and read CPU
 * bits); on an architecture the ISA is not built for, a config defines only .table.isa
 * and no runs predicate.
 */
#ifndef NNK_CONFIG_H
#define NNK_CONFIG_H

#include <stdbool.h>

#include "../dispatch/cpu.h"
#include "nnk_kernels.h"

/* A rule that gives GEMM's block sizes MC, KC, NC for an MR x NR microkernel of
 * esz-byte elements from the CPU's caches (csrc/gemm/blocking.c): "l1" keeps a B
 * micro-panel in L1 (BLIS's analytical model), "l2" streams both micro-panels from L2
 * and balances KC against MC there, within an A block of a_block elements (0 for "l1":
 * its KC is a bound). */
typedef struct {
  const char *name;
  void (*sizes)(const nnk_cache *caches, size_t esz, size_t mr, size_t nr, size_t *mc,
                size_t *kc, size_t *nc, size_t *a_block);
} nnk_gemm_blocks_rule;
extern const nnk_gemm_blocks_rule nnk_gemm_blocks_l1, nnk_gemm_blocks_l2;

typedef struct {
  nnk_kernel_table table; /* GEMM block sizes left 0: gemm_blocks gives them at run time */
  bool (*runs)(const nnk_cpu *cpu); /* NULL: not built for this architecture */
  const nnk_gemm_blocks_rule *gemm_blocks; /* NULL: no blocked GEMM (the reference loops) */
} nnk_isa_config;

#define NNK_CONFIG_DECL_(E, name) extern const nnk_isa_config nnk_config_##name;
NNK_ISA_LIST(NNK_CONFIG_DECL_)

/* The sizes (m n k) where GEMM's paths change, measured with bench/gemm_bench (the same
 * on the CPUs measured so far; a config may set its own):
 *   small:   up to 5^3 the reference loops win, even direct tiles' set-up costs more
 *            (equal at 4^3, tiles ahead from 6^3; the sheets' 2x2 and 4x4 stay here);
 *   direct:  up to 160^3 (and k <= KC) operands fit in L1/L2 and packing them costs
 *            more than strided reads;
 *   threads: from 192^3 threads pay for their start-up (about 2 ms of work on a core);
 *   threads_mv: matrix-vector products from 2^18 matrix elements (1 MiB of float32, a
 *            streaming read of 25 us or more). */
#define NNK_GEMM_THRESHOLDS                                                               \
  .small_mnk = 5.0 * 5.0 * 5.0, .direct_mnk = 160.0 * 160.0 * 160.0,                     \
  .threads_mnk = 192.0 * 192.0 * 192.0, .threads_mv = 65536.0

#endif
