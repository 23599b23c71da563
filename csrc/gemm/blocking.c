/*
 * GEMM block sizes from the caches of the CPU nnk runs on, for a microkernel of
 * MR x NR tiles of elements of esz bytes.  A cache of W ways, S sets and lines of L
 * bytes holds W S L bytes; an operand meant to stay in it gets some of the ways.  Two
 * rules, each ISA's configuration naming the one its microkernel suits:
 *
 * "l1", BLIS's analytical model (Low, Igual, Smith and Quintana-Orti, "Analytical
 * Modeling Is Enough for High-Performance BLIS", ACM TOMS 43(2), 2016):
 *   KC  one B micro-panel (KC x NR) stays in L1 while the A micro-panels (MR x KC)
 *       stream past it: one way is left for C and the streams, the rest shared in
 *       proportion NR : MR, so B gets C_B = floor((W1 - 1) / (1 + MR/NR)) ways and
 *       KC = C_B S1 L1 / (NR esz);
 *   MC  the packed A block (MC x KC) stays in L2 while B micro-panels stream: C_A =
 *       floor((W2 - 1) / (1 + NR/MC)) ways (about W2 - 2), MC = C_A S2 L2 / (KC esz),
 *       rounded down to a multiple of MR.
 *
 * "l2", for microkernels whose micro-panels both come from L2 (BLIS's "_l2" kernels
 * for Skylake-X and Zen 4 make the same choice; nnk's AVX2 tiles too, config/avx2.c).
 * A 512-bit tile reads two cache lines of B per k step: an L1-resident B micro-panel
 * caps KC at 128 float64, and each KC block is one more pass of loads and stores over
 * C, which from L3 or memory cost more than L1 residency saves (measured on Zen 4:
 * dgemm 2048^3 47 -> 51 GFLOP/s at KC 440 instead of 128; the kernel streams B from L2
 * at its full rate).  So:
 *   the A block (MC x KC) gets all of L2 but two ways (one for the B micro-panels
 *   passing through, one for C's tiles): X = (W2 - 2) S2 L2 / esz elements.  Within
 *   it, a KC block costs a load and a store of each element of C (2 / KC per
 *   multiply-add) and an MC block a pass over the B panel (1 / MC); 2/KC + 1/MC with
 *   MC KC = X is least at KC = sqrt(2 X), MC = X / KC.  The rule gives X too
 *   (a_block), and a product whose C is larger than X takes the k blocks this cost
 *   says for its own k and m, fewer and longer than KC where k is a little past it
 *   (gemm_impl.h's fewer_k_blocks).
 *
 * Both, where C is small and k long: a product whose C takes a quarter of L2 or less
 * and whose k spans four of the L1 model's KC blocks or more (a weight gradient dy^T x:
 * m and n a layer's widths, k the tokens) takes the L1 model's KC whatever the rule
 * (kc_c_in_l2, c_in_l2 and k_c_in_l2, set by dispatch.c; gemm_impl.h): its passes over
 * C stay in L2, and a B micro-panel kept in L1 serves every tile.  Measured on an Intel Xeon ("l2" rule, KC
 * 952 -> 256 float32, 672 -> 224 float64): those products 5-10 % faster, the GPT step
 * 2 %; not for a shorter k (the 784-256-10 MLP's float64 step, k = 784 in four blocks
 * instead of two, lost 3-8 % though its products alone did not).
 *
 * Both: NC  the packed B panel (KC x NC) stays in L3 while A blocks stream through L2:
 * half of L3's ways at most, since L3 is shared with the other cores and, here, the
 * panel is double-buffered; NC a multiple of NR.  Each is at least one tile, so a CPU
 * with tiny or unknown caches still runs.  The caches come from dispatch (CPUID, sysfs
 * or defaults); nothing here is tuned to one machine.  Compiled without ISA flags.
 */
#include <math.h>

#include "../config/config.h"

static size_t ways_for(size_t ways, double other_share)
{
  double w = (double)(ways > 1 ? ways - 1 : 1) / (1 + other_share);
  return w < 1 ? 1 : (size_t)w;
}

static size_t round_down(size_t v, size_t step, size_t least)
{
  v -= v % step;
  return v < least ? least : v;
}

static size_t l3_nc(const nnk_cache *l3, size_t esz, size_t nr, size_t kc)
{
  size_t c3 = l3->ways / 2 ? l3->ways / 2 : 1;
  return round_down(c3 * l3->sets * l3->line / (kc * esz), nr, nr);
}

static void l1_resident(const nnk_cache *caches, size_t esz, size_t mr, size_t nr, size_t *mc,
                        size_t *kc, size_t *nc, size_t *a_block)
{
  *a_block = 0; /* KC is the B micro-panel's bound in L1: no product goes past it */
  const nnk_cache *l1 = &caches[1], *l2 = &caches[2];
  size_t cb = ways_for(l1->ways, (double)mr / (double)nr);
  *kc = round_down(cb * l1->sets * l1->line / (nr * esz), 8, 8);
  size_t ca = ways_for(l2->ways, (double)nr / (double)(8 * mr)); /* NR/MC with MC >> MR */
  *mc = round_down(ca * l2->sets * l2->line / (*kc * esz), mr, mr);
  *nc = l3_nc(&caches[3], esz, nr, *kc);
}

static void l2_streamed(const nnk_cache *caches, size_t esz, size_t mr, size_t nr, size_t *mc,
                        size_t *kc, size_t *nc, size_t *a_block)
{
  const nnk_cache *l2 = &caches[2];
  size_t ways = l2->ways > 2 ? l2->ways - 2 : 1;
  double x = (double)(ways * l2->sets * l2->line) / (double)esz;
  *a_block = (size_t)x;
  *kc = round_down((size_t)sqrt(2 * x), 8, 8);
  *mc = round_down((size_t)(x / (double)*kc), mr, mr);
  *nc = l3_nc(&caches[3], esz, nr, *kc);
}

const nnk_gemm_blocks_rule nnk_gemm_blocks_l1 = {"l1", l1_resident};
const nnk_gemm_blocks_rule nnk_gemm_blocks_l2 = {"l2", l2_streamed};
