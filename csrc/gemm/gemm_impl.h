/*
 * The portable GEMM driver, written once for both dtypes: gemm.c includes it with
 *   T             float or double
 *   FN(name)      nnk_f32_##name / nnk_f64_##name   (internal names)
 *   CONFIG        nnk_f32_gemm_config / nnk_f64_gemm_config
 *   TABLE_GEMM    the table field holding this dtype's config
 *   TABLE_DT      the table field holding this dtype's kernels (f32 or f64)
 *   REF           the scalar reference GEMM
 *   PUBLIC(name)  nnk_s##name / nnk_d##name         (public names)
 *
 * BLIS's five loops around a microkernel:
 *   jc over n by NC   | pc over k by KC: pack B[pc:pc+KC, jc:jc+NC] into NR-wide panels
 *   ic over m by MC   | pack A[ic:ic+MC, pc:pc+KC] into MR-tall panels (one buffer per thread)
 *   jr over NC by NR, ir over MC by MR: the microkernel on one MR x NR tile of C.
 * Threads split the rows of C in equal shares of micro-panels, and the B packing; each
 * C tile has exactly one writer and sums over k in one order, so the result does not
 * depend on the thread count.  The packing of the blocks is packing_impl.h's; products
 * with a vector (m or n at most 4) take matvec_impl.h's paths instead.
 */

static inline const T *FN(at)(const T *base, size_t i, ptrdiff_t rs, size_t j, ptrdiff_t cs)
{
  return base + (ptrdiff_t)i * rs + (ptrdiff_t)j * cs;
}

#include "packing_impl.h"

/* Panels of B a block of A serves, at least, for A to be packed where the direct tiles
 * could read it in place (gemm_blocked's pack_a: the whole product's, and each of
 * streamed_member's members' own share). */
#ifndef A_PACKED_PANELS
#define A_PACKED_PANELS 32
#endif

/* C[0:mb, 0:nb] := tile + beta C, from a full tile (row stride nr) computed aside. */
static void FN(merge_tile)(size_t mb, size_t nb, size_t nr, const T *tile, T beta, T *c,
                           ptrdiff_t rs_c, ptrdiff_t cs_c)
{
  for (size_t i = 0; i < mb; i++)
    for (size_t j = 0; j < nb; j++) {
      T *cp = (T *)FN(at)(c, i, rs_c, j, cs_c);
      *cp = beta == 0 ? tile[i * nr + j] : tile[i * nr + j] + beta * *cp;
    }
}

/* dst[0:n] = src[0:n] for a tile's row (n <= NR): whole groups of 8 by fixed-size copies,
 * which compile to vector moves (a memcpy of n values is a call: a bias row per tile row
 * of x W^T + b cost 1.2 % of a GPT step), the rest one by one. */
static inline void FN(copy_row)(T *dst, const T *src, size_t n)
{
  size_t j = 0;
  for (; j + 8 <= n; j += 8) memcpy(dst + j, src + j, 8 * sizeof(T));
  for (; j < n; j++) dst[j] = src[j];
}

/* A block of A as the tiles read it: packed panels (ap, kc * MR values a panel), or where
 * it lies (a, contiguous rows rs_a apart, for the ISA's direct tiles). */
typedef struct {
  const T *ap, *a;
  ptrdiff_t rs_a;
} FN(a_block);

/* All tiles of one (MC x KC) x (KC x NC) block product into C.  In the first k block
 * (`first`) each tile asks for the next one's rows of C (a write hint): a step's outputs
 * are fresh buffers, in no cache, and a tile's first touch of C (the bias laid down, the
 * loads of beta C, or the stores) otherwise waits on memory; the packed tiles' own
 * prefetch of C, at their start, does not reach the direct tiles or the bias rows
 * (Zen 4, side by side: the GPT step 60.2-60.5 -> 59.1-59.3 ms on one thread, 32.2 ->
 * 31.8 on two; float32 2000 x 2000 x 64 0.94-0.96x -> 1.05-1.06x NumPy).  Later k
 * blocks find C where the first left it: asked for there too, sgemm 1024^3 lost 1-2 %.
 * With bias (the first k block of x W^T + b, beta 0, C's rows contiguous: the block's
 * row of nc values), a whole tile adds it to its sums as it stores them (the
 * microkernel's bias row); an edge tile's rows of C are set to the bias just before the
 * tile's values are added to them.  Laid down into C for every tile, the bias cost a
 * copy and a load of C a tile: x W^T + b of 1024 x 128 -> 512 4-7 % slower than without
 * the bias, -> 384 and -> 128 4-5 % (Zen 4).  Either way fl(fl(alpha A B) + bias): the
 * same bits.  `ahead` (NULL: none) goes to the whole tiles, packed or direct, which ask
 * for its lines as they run (streamed_member). */
static void FN(macro_kernel)(const CONFIG *cfg, size_t mc, size_t nc, size_t kc, T alpha,
                             FN(a_block) A, const T *bp, T beta, T *c, ptrdiff_t rs_c,
                             ptrdiff_t cs_c, const T *bias, bool first, nnk_gemm_ahead *ahead)
{
  const size_t mr = cfg->mr, nr = cfg->nr;
  for (size_t jr = 0; jr < nc; jr += nr) {
    size_t nb = nc - jr < nr ? nc - jr : nr;
    const T *tb = bias ? bias + jr : NULL; /* the tiles' bias row */
    for (size_t ir = 0; ir < mc; ir += mr) {
      size_t mb = mc - ir < mr ? mc - ir : mr;
      T *cij = (T *)FN(at)(c, ir, rs_c, jr, cs_c);
      if (first && cs_c == 1 && ir + 2 * mr <= mc) /* the next tile's rows of C, to be written */
        for (size_t i = mr; i < 2 * mr; i++)
          for (size_t j = 0; j < nb; j += 64 / sizeof(T)) __builtin_prefetch(cij + (ptrdiff_t)i * rs_c + j, 1, 3);
      const T *b = bp + jr * kc;
      T tile[NNK_GEMM_MAX_MR * NNK_GEMM_MAX_NR] __attribute__((aligned(64)));
      if (A.a) { /* A in place: the direct tile, B's packed panel at row stride NR */
        const T *a = A.a + (ptrdiff_t)ir * A.rs_a;
        /* into C where the tile stores just its nb columns (masks), else a private tile */
        if ((nb == nr || cfg->direct_any_width) && cs_c == 1) {
          cfg->direct(mb, nb, kc, alpha, a, A.rs_a, b, (ptrdiff_t)nr, beta, cij, rs_c, tb, ahead);
          continue;
        }
        cfg->direct(mb, nb, kc, alpha, a, A.rs_a, b, (ptrdiff_t)nr, 0, tile, (ptrdiff_t)nr, NULL, NULL);
      } else {
        const T *a = A.ap + ir * kc;
        if (mb == mr && nb == nr && cs_c == 1) {
          cfg->ukernel(kc, alpha, a, b, beta, cij, rs_c, tb, ahead);
          continue;
        }
        /* fewer rows or columns: a tile of their own */
        if (cfg->edge && (nb == nr || cfg->direct_any_width) && cs_c == 1) {
          cfg->edge(mb, nb, kc, alpha, a, b, beta, cij, rs_c, tb);
          continue;
        }
        /* A narrow or strided tile (or an edge where the ISA has no edge kernel): the
         * microkernel writes a private full tile, and only the mb x nb part that exists
         * is merged into C. */
        cfg->ukernel(kc, alpha, a, b, 0, tile, (ptrdiff_t)nr, NULL, NULL);
      }
      if (tb) /* an edge tile adds to its rows of C laid down as the bias (beta 0) */
        for (size_t i = 0; i < mb; i++) FN(copy_row)(cij + (ptrdiff_t)i * rs_c, tb, nb);
      FN(merge_tile)(mb, nb, nr, tile, tb ? (T)1 : beta, cij, rs_c, cs_c);
    }
  }
}

/* Panels of B an A block whose rows alias in L1 (below) serves, at most, for it to be
 * read in place all the same: the packing's cost is the block's, the aliasing's a share
 * of each panel's tiles (Zen 3, one thread, side by side, A's rows 4 KiB apart, in place
 * against packed: float32 64 x 10 x 1024 1.68x, 1024 x 10 x 1024 2.09x, 64 x 64 x 1024
 * and 1024 x 64 x 1024 1.22-1.31x, 1024 x 128 x 1024 1.09x (8 panels), 1024 x 192 x 1024
 * 0.97x (12), 1024 x 256 x 1024 0.99x, 1024 x 384 x 1024 0.89x; float64 1024 x 64 x 512
 * 1.17x (8), 1024 x 128 x 512 1.04x (16), 1024 x 192 x 512 0.99x). */
#ifndef ALIASED_A_PANELS
#define ALIASED_A_PANELS 8
#endif

/* The A block at rows ic.., columns pc.. (mc x kc), serving `panels` panels of B: in
 * place where its rows are contiguous and the ISA has direct tiles (a tile broadcasts
 * from MR rows, each read along: the same lines as a packed panel, without the packing;
 * x W^T of 1024 x 512 -> 128 +9 %, 256^3 +6 % on an Intel Xeon), else packed into ap.
 * Not where its rows lie a whole number of L1 ways apart (a power of two of 4 KiB or
 * more) and it serves many panels: then a tile's MR rows all fall in one L1 set (1024^3
 * -4 to -8 %, 2048^3 -12 %).  Not a transposed A either: its columns lie a row length
 * apart, the same for every step of k (float64 dW of 1024 x 128 -> 512: half speed).
 * Nor where the caller asks for packing (`pack`: blocked_job's pack_a). */
static FN(a_block) FN(a_block_of)(const CONFIG *cfg, size_t mc, size_t kc, const T *a,
                                  ptrdiff_t rs_a, ptrdiff_t cs_a, T *ap, bool pack, size_t panels)
{
  const bool aliased = ((size_t)rs_a * sizeof(T)) % cfg->l1_way == 0;
  if (!pack && cfg->direct && cs_a == 1 && (!aliased || panels <= ALIASED_A_PANELS))
    return (FN(a_block)){.a = a, .rs_a = rs_a};
  FN(pack_a)(cfg, mc, kc, a, rs_a, cs_a, ap);
  return (FN(a_block)){.ap = ap};
}

static inline size_t FN(round_up)(size_t x, size_t to) { return (x + to - 1) / to * to; }

/* The block size (a multiple of `unit`, at most `most`) that cuts `size` into the
 * fewest blocks of nearly equal size: k = 1024 with KC = 320 gives four blocks of 256,
 * not three of 320 and a short one of 64 whose tiles load and store C as often for a
 * fifth of the work. */
static inline size_t FN(balanced)(size_t size, size_t most, size_t unit)
{
  size_t blocks = size > most ? (size + most - 1) / most : 1;
  size_t b = FN(round_up)((size + blocks - 1) / blocks, unit);
  return b < most ? b : most;
}

/* The "l2" rule's KC and MC (csrc/gemm/blocking.c) minimise its cost per multiply-add,
 * 2/KC for the passes over C and 1/MC for the passes over B, with MC KC = X: KC =
 * sqrt(2 X) where k is long.  A k a little past that KC would be cut into two blocks of
 * half of it, each pass over C as dear as a whole one.  So the model at this product's
 * k and m: for each count of k blocks fewer than KC gives, kc = k / blocks and MC = X /
 * kc at most (and no more than the rule's), the one with the least 2/kc + 1/mc.  Zen 3,
 * float32 (X 98304, KC 440), side by side with NumPy: k = 512 in one block instead of
 * two, sgemm 512^3 0.93-0.96x -> 0.99-1.05x, x W^T of 1024 x 512 -> 128 (GPT's MLP)
 * 4-6 % faster, float64 512^3 2-3 %; 1024^3 in two blocks of 512 instead of three
 * (0.97-0.99x -> 0.99-1.00x); 2048^3 in four of 512 instead of five, alike.  Only
 * where C is larger than an A block (m n > X): a C that fits in L2 beside it costs less
 * a pass than the model says (dy^T x of 1024 x 128 -> 128, k = 1024, 3 % slower in two
 * blocks than in three). */
static void FN(fewer_k_blocks)(const CONFIG *cfg, size_t m, size_t k, size_t *KC, size_t *MC)
{
  const size_t mr = cfg->mr;
  double least = 2.0 / (double)*KC + 1.0 / (double)*MC;
  for (size_t blocks = (k + *KC - 1) / *KC - 1; blocks >= 1; blocks--) {
    const size_t kc = (k + blocks - 1) / blocks;
    size_t mc_most = cfg->a_block / kc < cfg->mc ? cfg->a_block / kc : cfg->mc;
    if (mc_most < mr) break; /* fewer blocks only lengthen kc further */
    const size_t mc = FN(balanced)(m, mc_most - mc_most % mr, mr);
    const double cost = 2.0 / (double)kc + 1.0 / (double)mc;
    if (cost < least) least = cost, *KC = kc, *MC = mc;
  }
}

/* C[i][j] = bias[j] + beta C[i][j] (beta 0: bias[j] alone, whatever C held) for rows i <
 * m, columns j < n: a bias row laid down where the first k block then adds to it. */
static void FN(fill_c)(size_t m, size_t n, T beta, const T *bias, T *c, ptrdiff_t rs_c,
                       ptrdiff_t cs_c)
{
  for (size_t i = 0; i < m; i++) {
    T *row = (T *)FN(at)(c, i, rs_c, 0, cs_c);
    if (beta == 0 && cs_c == 1) {
      memcpy(row, bias, n * sizeof(T));
      continue;
    }
    for (size_t j = 0; j < n; j++) {
      T *cp = row + (ptrdiff_t)j * cs_c;
      *cp = beta == 0 ? bias[j] : bias[j] + beta * *cp;
    }
  }
}

/* One blocked GEMM, shared by a team (pool.h): every member packs its share of each
 * B panel, then computes its share of C's rows against it.  B's packed panels alternate
 * between two buffers, so one barrier per panel suffices: a member packing the next
 * panel writes the buffer of the one before, which every member has finished with
 * (they have all passed the barrier after this panel's packing).  Fewer barriers matter
 * most when the team shares its cores with another process: each barrier waits for
 * the slowest member, descheduled or not. */
typedef struct {
  const CONFIG *cfg;
  size_t m, n, k, MC, KC, NC, a_stride, group; /* group: streamed_member's panels at once */
  bool pack_a; /* A packed even where the direct tiles could read it (gemm_blocked) */
  bool ahead;  /* streamed_member's tiles ask for the next group's B (next_group) */
  T alpha, beta;
  const T *a, *b, *bias; /* bias: NULL, or a row of n values added to every row of C */
  ptrdiff_t rs_a, cs_a, rs_b, cs_b, rs_c, cs_c;
  T *c, *bp[2], *ap;
} FN(blocked_job);

/* The bias added by the tiles (macro_kernel) where C starts from it alone (beta 0) and
 * its rows are contiguous; otherwise (bias + beta C, or C's columns apart) laid down
 * into a member's block at once (fill_c), which the first k block adds to. */
static inline bool FN(bias_in_tiles)(const FN(blocked_job) *j)
{
  return j->bias && j->beta == 0 && j->cs_c == 1;
}

/* The beta of the k block at pc: later blocks accumulate, and so does the first onto a
 * bias row laid down (fill_c); a bias the tiles add, or none, leaves beta as it is. */
static inline T FN(block_beta)(const FN(blocked_job) *j, size_t pc)
{
  return pc == 0 && (!j->bias || FN(bias_in_tiles)(j)) ? j->beta : (T)1;
}

/* The bias row the tiles of C's columns j0.. add in the k block at pc (NULL: none); where
 * the tiles do not add it, the first k block's rows x cols of C (at cb) are laid down as
 * bias + beta C first (fill_c), before the tiles that add to them. */
static inline const T *FN(block_bias)(const FN(blocked_job) *j, size_t pc, size_t rows,
                                      size_t cols, size_t j0, T *cb)
{
  if (pc != 0 || !j->bias) return NULL;
  if (FN(bias_in_tiles)(j)) return j->bias + j0;
  FN(fill_c)(rows, cols, j->beta, j->bias + j0, cb, j->rs_c, j->cs_c);
  return NULL;
}

static void FN(blocked_member)(void *ctx, int tid, int team, nnk_barrier *barrier)
{
  const FN(blocked_job) *j = ctx;
  const CONFIG *cfg = j->cfg;
  const size_t mr = cfg->mr, nr = cfg->nr, m = j->m, n = j->n, k = j->k;
  T *my_ap = j->ap + (size_t)tid * j->a_stride;
  unsigned panel = 0;
  for (size_t jc = 0; jc < n; jc += j->NC) {
    size_t nc = n - jc < j->NC ? n - jc : j->NC;
    for (size_t pc = 0; pc < k; pc += j->KC) {
      size_t kc = k - pc < j->KC ? k - pc : j->KC;
      const T beta_eff = FN(block_beta)(j, pc);
      T *bp = j->bp[panel++ & 1];
      size_t jp_lo, jp_hi;
      nnk_share((nc + nr - 1) / nr, tid, team, &jp_lo, &jp_hi);
      FN(pack_b)(cfg, kc, nc, jp_lo, jp_hi, FN(at)(j->b, pc, j->rs_b, jc, j->cs_b), j->rs_b,
                 j->cs_b, bp);
      nnk_barrier_wait(barrier); /* B's panel is whole */
      /* Each member takes an equal share of MR-row micro-panels (whole MC blocks
       * would leave one thread a block more: 13 blocks of 168 rows at m = 2048). */
      size_t lo, hi;
      nnk_share((m + mr - 1) / mr, tid, team, &lo, &hi);
      lo *= mr, hi = hi * mr < m ? hi * mr : m;
      const size_t MC = FN(balanced)(hi - lo, j->MC, mr); /* of this member's rows */
      for (size_t ic = lo; ic < hi; ic += MC) {
        size_t mc = hi - ic < MC ? hi - ic : MC;
        FN(a_block) A = FN(a_block_of)(cfg, mc, kc, FN(at)(j->a, ic, j->rs_a, pc, j->cs_a),
                                       j->rs_a, j->cs_a, my_ap, j->pack_a, (nc + nr - 1) / nr);
        T *cb = (T *)FN(at)(j->c, ic, j->rs_c, jc, j->cs_c);
        const T *tile_bias = FN(block_bias)(j, pc, mc, nc, jc, cb); /* this member's rows */
        FN(macro_kernel)(cfg, mc, nc, kc, j->alpha, A, bp, beta_eff, cb, j->rs_c, j->cs_c,
                         tile_bias, pc == 0, NULL);
      }
    }
  }
}

/* The lines that the tiles of a group (panels g0..g1-1 of this member's lo..hi, in
 * the k block at pc, kc steps) ask for ahead: the next group's piece of B's rows (this
 * k block's next group, or the next block's first), a group's width of each of its rows,
 * shared out evenly over the group's whole tiles.  The group's packing then reads them
 * from L2: from memory, each row's piece (a few lines, a row length apart, where no
 * hardware prefetcher follows) waited on its own (float32 96 x 3000 x 3000, Zen 3: the
 * packing 17 % of the time).  False where there is no next group.  B's rows
 * contiguous (j->ahead). */
static bool FN(next_group)(const FN(blocked_job) *j, size_t pc, size_t kc, size_t g0, size_t g1,
                           size_t lo, size_t hi, nnk_gemm_ahead *ahead)
{
  const size_t nr = j->cfg->nr, tiles = (g1 - g0) * (j->m / j->cfg->mr);
  size_t npc = pc, n0 = g1;
  if (g1 >= hi) npc = pc + j->KC, n0 = lo; /* the next k block's first group */
  if (npc >= j->k || tiles == 0) return false;
  const size_t n1 = hi - n0 < j->group ? hi : n0 + j->group;
  const size_t c0 = n0 * nr, c1 = n1 * nr < j->n ? n1 * nr : j->n;
  const size_t rows = j->k - npc < j->KC ? j->k - npc : j->KC; /* the next group's k steps */
  const char *first = (const char *)FN(at)(j->b, npc, j->rs_b, c0, 1);
  const size_t bytes = (c1 - c0) * sizeof(T), lines = ((uintptr_t)first % 64 + bytes - 1) / 64 + 1;
  const size_t each = (rows * lines + tiles - 1) / tiles; /* lines a tile asks for */
  *ahead = (nnk_gemm_ahead){.row = first, .ld = j->rs_b * (ptrdiff_t)sizeof(T),
                            .last = bytes - 1, .lines = lines, .left = rows * lines,
                            .every = kc / each ? kc / each : 1};
  return true;
}

/* A product whose rows all fit one A block (m <= MC): a packed B block would serve that
 * one block only, so instead of packing all of it first (a layer's weight: megabytes,
 * which the tiles then read back from L3) each member takes whole NR-wide panels of C's
 * columns and packs them a group at a time (as many panels as a quarter of L2 holds,
 * `group`) just before the tiles that use them, into a buffer of its own that stays in
 * L2; A's block is packed by every member.  A group's B rows are read a group's width at
 * a time: panel by panel, each of B's rows was read 128 bytes a time, a row length
 * apart, from L3 where B is a layer's input of the step before (Zen 4, float32, dy^T x
 * of 1024 x 128 -> 2000: 1.07x as fast, -> 4096 x 64 1.18x, the GPT step's weight
 * gradients 2.2 -> 0.9 ms of pack_b, the step 63.7 -> 61.3 ms on one thread); with
 * few rows the tiles of a group ask for the next group's rows (next_group).  No
 * barrier.  Each C tile has one writer and gets the same microkernel calls on the same
 * packed values in the same k order as in gemm_blocked: the same bits, whatever the
 * team. */
static void FN(streamed_member)(void *ctx, int tid, int team, nnk_barrier *barrier)
{
  (void)barrier;
  const FN(blocked_job) *j = ctx;
  const CONFIG *cfg = j->cfg;
  const size_t nr = cfg->nr, m = j->m, n = j->n, k = j->k;
  T *my_ap = j->ap + (size_t)tid * j->a_stride, *my_bp = j->bp[0] + (size_t)tid * j->group * j->KC * nr;
  size_t lo, hi;
  nnk_share((n + nr - 1) / nr, tid, team, &lo, &hi);
  for (size_t pc = 0; pc < k && lo < hi; pc += j->KC) {
    size_t kc = k - pc < j->KC ? k - pc : j->KC;
    const T beta_eff = FN(block_beta)(j, pc);
    /* each member packs its own copy of A: packed where it serves enough of its panels */
    FN(a_block) A = FN(a_block_of)(cfg, m, kc, FN(at)(j->a, 0, j->rs_a, pc, j->cs_a), j->rs_a,
                                   j->cs_a, my_ap, j->pack_a && hi - lo >= A_PACKED_PANELS, hi - lo);
    for (size_t g0 = lo; g0 < hi; g0 += j->group) {
      const size_t g1 = hi - g0 < j->group ? hi : g0 + j->group, c0 = g0 * nr;
      const size_t gw = n - c0 < (g1 - g0) * nr ? n - c0 : (g1 - g0) * nr;
      FN(pack_b)(cfg, kc, gw, 0, g1 - g0, FN(at)(j->b, pc, j->rs_b, c0, j->cs_b), j->rs_b, j->cs_b, my_bp);
      nnk_gemm_ahead ahead;
      const bool ask = j->ahead && FN(next_group)(j, pc, kc, g0, g1, lo, hi, &ahead);
      for (size_t jp = g0; jp < g1; jp++) {
        size_t j0 = jp * nr, nb = n - j0 < nr ? n - j0 : nr;
        T *cb = (T *)FN(at)(j->c, 0, j->rs_c, j0, j->cs_c);
        const T *tile_bias = FN(block_bias)(j, pc, m, nb, j0, cb);
        FN(macro_kernel)(cfg, m, nb, kc, j->alpha, A, my_bp + (j0 - c0) * kc, beta_eff, cb, j->rs_c,
                         j->cs_c, tile_bias, pc == 0, ask ? &ahead : NULL);
      }
    }
  }
}

static nnk_status FN(gemm_blocked)(const CONFIG *cfg, int nthreads, size_t m, size_t n,
                                   size_t k, T alpha, const T *a, ptrdiff_t rs_a,
                                   ptrdiff_t cs_a, const T *b, ptrdiff_t rs_b, ptrdiff_t cs_b,
                                   T beta, T *c, ptrdiff_t rs_c, ptrdiff_t cs_c, const T *bias)
{
  const size_t mr = cfg->mr, nr = cfg->nr;
  FN(blocked_job) j = {.cfg = cfg, .m = m, .n = n, .k = k, .alpha = alpha, .beta = beta,
                       .a = a, .b = b, .bias = bias, .c = c, .rs_a = rs_a, .cs_a = cs_a,
                       .rs_b = rs_b, .cs_b = cs_b, .rs_c = rs_c, .cs_c = cs_c};
  /* C in a quarter of L2 and k long (a weight gradient dy^T x: m and n a layer's
   * widths, k the tokens): each KC block's pass over C is cheap beside the k steps, so
   * KC from the L1 model, a B micro-panel in L1 across the tiles */
  const bool c_in_l2 = m * n * sizeof(T) <= cfg->c_in_l2 && k >= cfg->k_c_in_l2;
  const size_t kc_most = c_in_l2 ? cfg->kc_c_in_l2 : cfg->kc;
  j.KC = FN(balanced)(k, kc_most, 1);
  j.MC = FN(balanced)(m, cfg->mc, mr);
  /* Few rows (at most half the rule's MC): one A block, B streamed once whatever KC, a
   * group of its panels at a time (streamed_member).  fewer_k_blocks's longer KC would
   * only narrow the groups, whose rows' pieces then come from memory a line or two at a
   * time (float32 32 x 4096 x 4096 took KC 2048 and one 16-wide panel a group: 0.57-0.62x
   * NumPy, the rule's KC 0.94-1.00x; 64 x 4096 x 4096 0.70x -> 0.98-0.99x, 64 x 2048 x 2048
   * 0.90x -> 1.00-1.02x, 96 x 4096 x 1024 0.91-0.93x -> 0.99x, 48 x 3000 x 3000 0.88x ->
   * 1.03x, but 96 x 4000 x 1000 0.94-0.97x -> 0.89-0.93x (one block of 1000 against three);
   * groups of two panels at least, KC up to 1024, lost most of it again (32 x 4096 x 4096
   * 0.68x); Zen 3, one thread, side by side.  From 144 rows to 216 the rule's KC was 1-4 %
   * slower.)  There the tiles also ask for the next group ahead. */
  const bool few_rows = 2 * m <= cfg->mc;
  if (cfg->a_block && m * n > cfg->a_block && !few_rows)
    FN(fewer_k_blocks)(cfg, m, k, &j.KC, &j.MC);
  /* a longer KC: the B panel (KC x NC) kept within the L3 share the rule gave it */
  size_t nc_most = j.KC > cfg->kc ? cfg->nc * cfg->kc / j.KC : cfg->nc;
  j.NC = FN(balanced)(n, nc_most < nr ? nr : nc_most - nc_most % nr, nr);
  j.a_stride = FN(round_up)(j.MC * j.KC * sizeof(T), 64) / sizeof(T);
  /* Where k takes more than one block and A's blocks each serve many tiles, A is packed
   * even where the direct tiles could read it in place: in the later k blocks a direct
   * tile waits on its rows of C (the packed tiles ask for theirs as they start, a panel
   * of A streams ahead of them), and the packing is shared by 32 panels of B or more.
   * Zen 3, side by side with NumPy: float32 1000^3 0.79-0.95x -> 0.96-0.98x, 1500^3
   * 0.77-0.91x -> 0.96-0.99x, 2000^3 0.83-0.90x -> 0.86-0.98x; float64 1000^3 0.87-0.88x
   * -> 0.98x, 2000^3 0.83-0.87x -> 0.94-0.95x, 4000 x 256 x 1000 0.93-0.96x -> 0.99-1.01x.
   * Not for fewer panels: float64 2000 x 128 x 2000 (16 panels) 1.05x in place, 1.00-1.01x
   * packed; float32 2000 x 128 x 2000 0.96-1.09x and 0.83-0.89x, 20000 x 16 x 1000
   * 1.38-1.46x and 0.95x.  Nor within one k block: GPT's x W^T and dy W 2-7 % faster in
   * place.  The same holds where A is one block (streamed_member; its direct tiles' speed
   * also moved with where A lay, 71-85 GFLOP/s on 160 x 1024 x 3000 from one array to the
   * next): float32 222 x 3000 x 3000 +8-13 %, 160 x 3000 x 3000 0-8 %, 96 x 4000 x 1000
   * +6-8 %, 48 x 3000 x 3000 +2-3 %; float64 150 x 3000 x 3000 +8 %, 96 x 4000 x 1000 +6 %;
   * 160 x 512 x 3000 and 24 x 1024 x 3000 within 2 % either way; 100 x 64 x 1000 (4
   * panels) would lose 16 %. */
  j.pack_a = k > j.KC && n >= A_PACKED_PANELS * nr;
  if (m <= j.MC) { /* one A block: B streamed by groups of panels (streamed_member) */
    size_t panels = (n + nr - 1) / nr;
    if ((size_t)nthreads > panels) nthreads = (int)panels;
    j.group = cfg->c_in_l2 / (j.KC * nr * sizeof(T)); /* a quarter of L2 */
    if (j.group < 1) j.group = 1;
    size_t panel = FN(round_up)(j.group * j.KC * nr * sizeof(T), 64);
    /* The next group asked for ahead (next_group) where B's rows are contiguous, the
     * rows few and B larger than a quarter of L3, so that its rows come from memory
     * (where B stays in the caches the asking costs the tiles 1-2 %: 64 x 784 <- 256,
     * the 784-256-10 MLP's dx, 0.99x; 64 x 512 <- 1024 0.98x).  The fewer C's rows, the
     * larger the packing's share (the work a line of B feeds is m multiply-adds a
     * value).  Zen 3, one thread, side by side, float32 (MC 222): 24 x 3000 x 3000 +22 %,
     * 48 x 3000 x 3000 +36 % (0.65x NumPy -> 0.88x), 48 x 4000 x 1000 +17 %, 96 x 3000 x
     * 3000 and 96 x 4000 x 1000 +6-8 % (0.90x -> 0.95-0.99x), 8 x 4096 x 4096 (A packed)
     * +29 %, 144 x 3000 x 3000 +1-4 %, but 192 x 3000 x 3000 -5 to +2 %, 216 x 2000 x 2000
     * -7 to -10 %; float64 (MC 156) 24 and 48 rows +18-23 %, 72 to 144 rows 0-2 %. */
    j.ahead = cs_b == 1 && few_rows && k * n * sizeof(T) > cfg->l3 / 4;
    char *space = nnk_gemm_workspace((size_t)nthreads * (panel + j.a_stride * sizeof(T)));
    if (!space) return NNK_ENOMEM;
    j.bp[0] = (T *)space;
    j.ap = (T *)(space + (size_t)nthreads * panel);
    nnk_parallel(nthreads, FN(streamed_member), &j);
    return NNK_OK;
  }
  size_t b_bytes = FN(round_up)(j.KC * j.NC * sizeof(T), 64);
  int two = nthreads > 1 && (n > j.NC || k > j.KC); /* a second B buffer only when used */
  size_t a_at = two ? 2 * b_bytes : b_bytes; /* the members' A blocks after B's */
  char *space = nnk_gemm_workspace(a_at + (size_t)nthreads * j.a_stride * sizeof(T));
  if (!space) return NNK_ENOMEM;
  j.bp[0] = (T *)space;
  j.bp[1] = (T *)(space + (two ? b_bytes : 0));
  j.ap = (T *)(space + a_at);
  nnk_parallel(nthreads, FN(blocked_member), &j);
  return NNK_OK;
}

/* Small problems with unit column strides in A and B: every tile straight from the
 * operands.  A last partial panel of B's columns is taken as it is where the kernel
 * masks (direct_any_width), else packed zero-padded, so no read runs past a row.
 * Loop order jr, ir: a B panel stays in L1 while A streams. */
static nnk_status FN(gemm_direct)(const CONFIG *cfg, size_t m, size_t n, size_t k, T alpha,
                                  const T *a, ptrdiff_t rs_a, const T *b, ptrdiff_t rs_b,
                                  T beta, T *c, ptrdiff_t rs_c, ptrdiff_t cs_c)
{
  const size_t mr = cfg->mr, nr = cfg->nr;
  /* The edge panel lives on the stack when small (tiny GEMMs are all edge), else in
   * the thread's workspace; 16 KiB is far below any thread's stack. */
  T local[16384 / sizeof(T)] __attribute__((aligned(64)));
  T *edge = NULL;
  if (n % nr && !cfg->direct_any_width) {
    size_t bytes = k * nr * sizeof(T);
    edge = bytes <= sizeof local ? local : nnk_gemm_workspace(bytes);
    if (!edge) return NNK_ENOMEM;
  }
  for (size_t jr = 0; jr < n; jr += nr) {
    size_t nb = n - jr < nr ? n - jr : nr;
    const T *bj = b + jr;
    ptrdiff_t rs_bj = rs_b;
    if (nb < nr && !cfg->direct_any_width) { /* the tile reads NR columns: pad them */
      FN(pack_b)(cfg, k, nb, 0, 1, bj, rs_b, 1, edge);
      bj = edge, rs_bj = (ptrdiff_t)nr;
    }
    for (size_t ir = 0; ir < m; ir += mr) {
      size_t mb = m - ir < mr ? m - ir : mr;
      const T *ai = a + (ptrdiff_t)ir * rs_a;
      T *cij = (T *)FN(at)(c, ir, rs_c, jr, cs_c);
      if ((nb == nr || cfg->direct_any_width) && cs_c == 1) {
        cfg->direct(mb, nb, k, alpha, ai, rs_a, bj, rs_bj, beta, cij, rs_c, NULL, NULL);
        continue;
      }
      T tile[NNK_GEMM_MAX_MR * NNK_GEMM_MAX_NR] __attribute__((aligned(64)));
      cfg->direct(mb, nb, k, alpha, ai, rs_a, bj, rs_bj, 0, tile, (ptrdiff_t)nr, NULL, NULL);
      FN(merge_tile)(mb, nb, nr, tile, beta, cij, rs_c, cs_c);
    }
  }
  return NNK_OK;
}

static void FN(scale_c)(size_t m, size_t n, T beta, T *c, ptrdiff_t rs_c, ptrdiff_t cs_c)
{
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      T *cp = (T *)FN(at)(c, i, rs_c, j, cs_c);
      *cp = beta == 0 ? 0 : beta * *cp; /* beta == 0 drops NaN in C, as BLAS does */
    }
}

#include "matvec_impl.h"

/* C = alpha op(A) op(B) + beta C, plus bias[j] in every row when bias is not NULL (the
 * fully connected layer's x W^T + b: on the blocked paths the tiles add it as they store
 * their sums (macro_kernel); the others lay it down first, whole, and add to it). */
static nnk_status FN(gemm_core)(size_t m, size_t n, size_t k, T alpha, const T *a,
                                ptrdiff_t rs_a, ptrdiff_t cs_a, const T *b, ptrdiff_t rs_b,
                                ptrdiff_t cs_b, T beta, T *c, ptrdiff_t rs_c, ptrdiff_t cs_c,
                                const T *bias)
{
  if (m == 0 || n == 0) return NNK_OK;
  if (k == 0 || alpha == 0) {
    if (bias) FN(fill_c)(m, n, beta, bias, c, rs_c, cs_c);
    else FN(scale_c)(m, n, beta, c, rs_c, cs_c);
    return NNK_OK;
  }
  const CONFIG *cfg = &nnk_kernels()->TABLE_GEMM;
  double flops = (double)m * (double)n * (double)k;
  int nthreads = flops >= cfg->threads_mnk ? nnk_get_num_threads() : 1;
  /* the direct tiles, A and B unpacked: both with contiguous rows, one k block, small */
  int direct = cfg->direct && cs_a == 1 && cs_b == 1 && k <= cfg->kc && flops <= cfg->direct_mnk;
  int blocked = cfg->ukernel && flops > cfg->small_mnk && m > 4 && n > 4 && !direct;
  /* Tiles pad m to MR and n to NR.  When n is narrower than one tile and the transposed
   * problem C^T = op(B)^T op(A)^T pads less, compute that: the same numbers, with A's
   * and B's roles and C's strides swapped.  Only then: every tile of C^T is stored
   * through the strided merge, which costs more than the few percent of padding a
   * wide C saves (measured: 10 % of a 784-256-10 training step).  And only where A is a
   * transposed view (its columns contiguous): there C^T reads it by rows, as C would
   * have to pack it by transposing; with A's rows contiguous C^T had the transposing
   * pack instead (a third of 200 x 10 x 1000's time).  Zen 3, float32, side by side:
   * A in rows, C instead of C^T, 200 x 10 x 1000 1.14-1.20x (0.84x NumPy -> 0.95-1.02x),
   * 1000 x 10 x 1000 1.44x, 20000 x 10 x 100 1.54x, 500 x 8 x 2000 1.48x, x W^T of 20000 x
   * 10 x 100 1.45x; A transposed, C^T kept: C would be 0.71-0.83x of it. */
  int transposed = n < cfg->nr && cs_a != 1 && rs_a == 1 &&
                   FN(round_up)(m, cfg->mr) * FN(round_up)(n, cfg->nr) >
                       FN(round_up)(n, cfg->mr) * FN(round_up)(m, cfg->nr);
  /* And x W^T with few rows (a small batch through a layer: B a transposed view, A's rows
   * contiguous): C would pack all of W by transposing it, for a few rows' use; C^T = W
   * x^T reads W's rows in place by the direct tiles, once for each of its NR-wide
   * panels of x^T (two at most), and packs only x.  Where k is short against m, C^T's
   * strided merges of its tiles cost more than the packing saves.  Zen 3, side by side,
   * float32: 8 x 256 <- 784 1.56x (0.92x NumPy -> 1.44x), 16 x 256 <- 784 1.33x, 32 x 256
   * <- 784 1.15x, 8 x 4096 <- 1024 1.91x, 16 x 1024 <- 1024 1.33x, 16 x 256 <- 256 1.27x, 8
   * x 256 <- 64 1.05x; against that, 96 x 256 <- 784 (6 panels) 0.88x, 64 x 256 <- 784 0.98x,
   * 16 x 256 <- 64 (k 4 m) 0.95x, 32 x 256 <- 128 1.00x; float64 8 x 256 <- 784 1.82x,
   * 16 x 256 <- 784 1.60x. */
  if (cfg->direct && m <= 2 * cfg->nr && k >= 8 * m && rs_b == 1 && cs_b != 1 && cs_a == 1)
    transposed = 1;
  if (blocked && !transposed)
    return FN(gemm_blocked)(cfg, nthreads, m, n, k, alpha, a, rs_a, cs_a, b, rs_b, cs_b, beta,
                            c, rs_c, cs_c, bias);
  if (bias) { /* the other paths: the bias row laid down first, then added to */
    FN(fill_c)(m, n, beta, bias, c, rs_c, cs_c);
    beta = 1;
  }
  if (!blocked) {
    if (!cfg->ukernel || flops <= cfg->small_mnk) {
      /* Scalar ISA, or a problem so small that packing costs more than it saves. */
      REF(m, n, k, alpha, a, rs_a, cs_a, b, rs_b, cs_b, beta, c, rs_c, cs_c);
      return NNK_OK;
    }
    if (m <= 4 || n <= 4) {
      int done = FN(gemv)(cfg, m, n, k, alpha, a, rs_a, cs_a, b, rs_b, cs_b, beta, c, rs_c, cs_c);
      if (done) return done > 0 ? NNK_OK : NNK_ENOMEM;
    }
    if (direct)
      return FN(gemm_direct)(cfg, m, n, k, alpha, a, rs_a, b, rs_b, beta, c, rs_c, cs_c);
  }
  if (transposed)
    return FN(gemm_blocked)(cfg, nthreads, n, m, k, alpha, b, cs_b, rs_b, a, cs_a, rs_a, beta,
                            c, cs_c, rs_c, NULL);
  return FN(gemm_blocked)(cfg, nthreads, m, n, k, alpha, a, rs_a, cs_a, b, rs_b, cs_b, beta, c,
                          rs_c, cs_c, NULL);
}

nnk_status PUBLIC(gemm_strided)(size_t m, size_t n, size_t k, T alpha, const T *a,
                                ptrdiff_t rs_a, ptrdiff_t cs_a, const T *b, ptrdiff_t rs_b,
                                ptrdiff_t cs_b, T beta, T *c, ptrdiff_t rs_c, ptrdiff_t cs_c)
{
  return FN(gemm_core)(m, n, k, alpha, a, rs_a, cs_a, b, rs_b, cs_b, beta, c, rs_c, cs_c, NULL);
}

nnk_status FN(gemm_bias)(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, T alpha,
                         const T *a, size_t lda, const T *b, size_t ldb, T beta, T *c,
                         size_t ldc, const T *bias)
{
  /* Stored row lengths: A is m x k (k x m when transposed), B is k x n (n x k). */
  size_t a_row = trans_a ? m : k, b_row = trans_b ? k : n;
  if (lda < (a_row ? a_row : 1) || ldb < (b_row ? b_row : 1) || ldc < (n ? n : 1))
    return NNK_EINVAL;
  if (lda > PTRDIFF_MAX || ldb > PTRDIFF_MAX || ldc > PTRDIFF_MAX) return NNK_EINVAL;
  ptrdiff_t sa = (ptrdiff_t)lda, sb = (ptrdiff_t)ldb;
  return FN(gemm_core)(m, n, k, alpha, a, trans_a ? 1 : sa, trans_a ? sa : 1, b,
                       trans_b ? 1 : sb, trans_b ? sb : 1, beta, c, (ptrdiff_t)ldc, 1, bias);
}

nnk_status PUBLIC(gemm)(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, T alpha,
                        const T *a, size_t lda, const T *b, size_t ldb, T beta, T *c,
                        size_t ldc)
{
  return FN(gemm_bias)(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, NULL);
}
