/*
 * Products with a vector, for the GEMM driver (gemm_impl.h includes it once per dtype,
 * with its T, FN, CONFIG and TABLE_* names): dot products, matrix-vector and
 * vector-matrix products and skinny products (one side of at most four) on the table's
 * gemv kernels (csrc/gemv/), which stream the big operand once where tiles would pad the
 * small side to a whole tile; the threads' split and its fixed order of sums.
 */

/* One gemv kernel call (csrc/gemv/), shared by a team when it is big: the members split
 * y, each element of which is computed exactly as one thread computes it, so the result
 * is the same for every thread count.  Row dots split rows in eights (the kernel's
 * groups of eight or four; the odd rows stay with the last member, as with one
 * thread); axpys split columns in pieces of 64 (whole cache lines), or, from
 * XW_BLOCK_ELEMS elements on, rows in blocks set by the shape (below).  Each call is
 * told the rows of the whole matrix (`whole`), by which the kernel judges whether it
 * streams from memory: a share of it would not tell.  A lone dot
 * product (one row) has only its length to split: it is summed in blocks, one partial
 * each, added in order, the blocks set by its length alone (whatever the team): as few
 * as blocks of at most DOT_BLOCK allow, of equal lengths (a multiple of 64 values, the
 * last shorter), so that two members take halves (10^5 float64 on two threads: blocks
 * of 32768, 32768, 32768 and 1696 split 65536 to 34464, 12.2 us; four of 25024, 9.0 us,
 * as OpenBLAS's; Zen 4).  Blocks of 8192 balanced as well but cost a one-thread dot
 * 3-5 % (a call and a sum each). */
#define DOT_BLOCK 32768
/* The length of each block of a dot product of n values (n > DOT_BLOCK). */
static inline size_t FN(dot_block)(size_t n)
{
  const size_t blocks = (n + DOT_BLOCK - 1) / DOT_BLOCK;
  return ((n + blocks - 1) / blocks + 63) / 64 * 64;
}
/* The piece of y a member takes a whole number of: rows for the dots, columns for the
 * axpys. */
static inline size_t FN(gemv_unit)(int dots) { return dots ? 8 : 64; }
/* x W (the axpys, one vector) from XW_BLOCK_ELEMS matrix elements on is summed in row
 * blocks, as many as the matrix has XW_BLOCK_ELEMS (2 to XW_BLOCKS, whole eight-row
 * passes), each into a partial of y, the partials then summed in order by the same
 * kernel (rows of ones, the members splitting the columns); the blocks set by the shape
 * alone, so that every thread count gives the same bits.  Members take whole blocks and
 * read their rows whole, where splitting the columns had each read a part of every row.
 * Zen 4, side by side with the column split, best of three runs of seven (us): two
 * threads, float32 2000^2 129 -> 105, 8000 x 512 134 -> 114, 1000^2 34 -> 28, float64
 * 8000 x 512 417 -> 276, 2000^2 343 -> 324; one thread within 2 % either way (blocks of
 * 2^18 elements cost it 3 % on 1000^2, 11 % on float64 8000 x 512, before the kernel
 * was told the whole matrix's rows: a block alone looked cache-sized, not asked ahead). */
#define XW_BLOCK_ELEMS (1u << 19)
#define XW_BLOCKS 16
static inline size_t FN(xw_blocks)(size_t rows, size_t n)
{
  const size_t want = (rows * n + XW_BLOCK_ELEMS - 1) / XW_BLOCK_ELEMS; /* (a matrix in memory: no wrap) */
  const size_t blocks = want < XW_BLOCKS ? want : XW_BLOCKS, groups = rows / 8;
  return blocks < groups ? blocks : groups;
}
typedef struct {
  void (*kernel) NNK_SIG_GEMV(T);
  int dots;
  size_t rows, n, nx, lda, ldx, ldy;
  T alpha, beta;
  const T *a, *x;
  T *y, *partial;
  size_t block;      /* a lone dot's block length */
  size_t row_blocks; /* x W's row blocks (0: columns split), of block_rows rows each */
  size_t block_rows;
} FN(gemv_job);

/* x W by row blocks (xw_blocks): the member's blocks into their partials, then, once every
 * member is done, its columns of y summed over the partials in order. */
static void FN(xw_member)(const FN(gemv_job) *j, int tid, int team, nnk_barrier *barrier)
{
  static const T ones[XW_BLOCKS] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  size_t lo, hi;
  nnk_share(j->row_blocks, tid, team, &lo, &hi);
  for (size_t blk = lo; blk < hi; blk++) {
    const size_t r0 = blk * j->block_rows, nr = j->rows - r0 < j->block_rows ? j->rows - r0 : j->block_rows;
    j->kernel(nr, j->n, 1, 1, j->a + r0 * j->lda, j->lda, j->x + r0, 0, 0, j->partial + blk * j->n, 0,
              j->rows);
  }
  nnk_barrier_wait(barrier);
  nnk_share((j->n + 63) / 64, tid, team, &lo, &hi);
  lo *= 64, hi = hi * 64 < j->n ? hi * 64 : j->n;
  if (lo < hi)
    j->kernel(j->row_blocks, hi - lo, 1, j->alpha, j->partial + lo, j->n, ones, 0, j->beta, j->y + lo, 0,
              j->row_blocks);
}

static void FN(gemv_member)(void *ctx, int tid, int team, nnk_barrier *barrier)
{
  const FN(gemv_job) *j = ctx;
  size_t lo, hi;
  if (j->row_blocks) {
    FN(xw_member)(j, tid, team, barrier);
    return;
  }
  if (j->partial) { /* one long dot product: blocks of it */
    nnk_share((j->n + j->block - 1) / j->block, tid, team, &lo, &hi);
    for (size_t blk = lo; blk < hi; blk++) {
      size_t p = blk * j->block, len = j->n - p < j->block ? j->n - p : j->block;
      j->kernel(1, len, 1, 1, j->a + p, j->lda, j->x + p, 0, 0, j->partial + blk, 1, 1);
    }
    return;
  }
  const size_t unit = FN(gemv_unit)(j->dots), count = j->dots ? j->rows : j->n;
  nnk_share((count + unit - 1) / unit, tid, team, &lo, &hi);
  lo *= unit, hi = hi * unit < count ? hi * unit : count;
  if (lo >= hi) return;
  if (j->dots)
    j->kernel(hi - lo, j->n, j->nx, j->alpha, j->a + lo * j->lda, j->lda, j->x, j->ldx, j->beta,
              j->y + lo * j->ldy, j->ldy, j->rows);
  else
    j->kernel(j->rows, hi - lo, j->nx, j->alpha, j->a + lo, j->lda, j->x, j->ldx, j->beta,
              j->y + lo, j->ldy, j->rows);
}

/* kernel(rows, n, nx, ...) as the gemv list defines it, on threads when the matrix has
 * at least threads_mv elements.  Returns 0, or -1 when the partials could not be
 * allocated. */
static int FN(gemv_run)(const CONFIG *cfg, int dots, size_t rows, size_t n, size_t nx, T alpha,
                        const T *a, size_t lda, const T *x, size_t ldx, T beta, T *y, size_t ldy)
{
  const TABLE_KERNELS *K = &nnk_kernels()->TABLE_DT;
  FN(gemv_job) j = {.kernel = K->gemv[dots ? NNK_GEMV_DOTS : NNK_GEMV_AXPYS], .dots = dots,
                    .rows = rows, .n = n, .nx = nx, .lda = lda, .ldx = ldx, .ldy = ldy,
                    .alpha = alpha, .beta = beta, .a = a, .x = x, .y = y};
  double size = ((double)rows + 1) * (double)n * (double)nx; /* the matrix and x */
  int threads = size >= cfg->threads_mv ? nnk_get_num_threads() : 1;
  int lone_dot = dots && rows == 1 && nx == 1;
  const size_t unit = FN(gemv_unit)(dots), count = dots ? rows : n;
  if (lone_dot && n > DOT_BLOCK) j.block = FN(dot_block)(n);
  if (!dots && nx == 1 && (double)rows * (double)n >= XW_BLOCK_ELEMS) {
    const size_t blocks = FN(xw_blocks)(rows, n), groups = (rows + 7) / 8;
    j.block_rows = (groups + blocks - 1) / blocks * 8;
    j.row_blocks = (rows + j.block_rows - 1) / j.block_rows;
    if (j.row_blocks < 2) j.row_blocks = 0;
  }
  if (j.row_blocks) {
    if (!(j.partial = malloc(j.row_blocks * n * sizeof(T)))) return -1;
    if ((size_t)threads > j.row_blocks) threads = (int)j.row_blocks;
    nnk_parallel(threads, FN(gemv_member), &j);
    free(j.partial);
    return 0;
  }
  size_t pieces = j.block ? (n + j.block - 1) / j.block : (count + unit - 1) / unit;
  if ((size_t)threads > pieces) threads = (int)pieces; /* a member with nothing to do costs */
  if (j.block) { /* pieces: the blocks, one partial each */
    if (!(j.partial = malloc(pieces * sizeof(T)))) return -1;
    nnk_parallel(threads, FN(gemv_member), &j);
    T sum = 0;
    for (size_t b = 0; b < pieces; b++) sum += j.partial[b];
    *y = beta == 0 ? alpha * sum : alpha * sum + beta * *y; /* beta == 0 ignores NaN in y */
    free(j.partial);
    return 0;
  }
  if (threads > 1) nnk_parallel(threads, FN(gemv_member), &j);
  else j.kernel(rows, n, nx, alpha, a, lda, x, ldx, beta, y, ldy, rows);
  return 0;
}

/* C = alpha M X + beta C, C (rows x nv) with row r at c + r rs_c and vector v at
 * + v cs_c, M's element p of row r at mat + r ld_m + p es_m, X's element p of vector v
 * at x + v vs_x + p es_x, nv <= 4: dots of each row of M with the nv vectors, M streamed
 * once.  M's rows must be contiguous (es_m == 1, ld_m >= 0); the vectors go as they are
 * when contiguous, else through a copy; C through a buffer unless its vectors are
 * adjacent.  Returns 1, 0 when M's rows are not contiguous, -1 when a
 * copy could not be allocated. */
static int FN(skinny)(const CONFIG *cfg, size_t rows, size_t k, size_t nv, T alpha, const T *mat,
                      ptrdiff_t ld_m, ptrdiff_t es_m, const T *x, ptrdiff_t vs_x, ptrdiff_t es_x,
                      T beta, T *c, ptrdiff_t rs_c, ptrdiff_t cs_c)
{
  if (es_m != 1 || ld_m < 0) return 0;
  T *xc = NULL, *yc = NULL;
  size_t ldx = (size_t)vs_x, ldy = (size_t)rs_c;
  if (es_x != 1 || vs_x < 0) {
    if (!(xc = malloc(nv * k * sizeof(T)))) return -1;
    for (size_t v = 0; v < nv; v++)
      for (size_t p = 0; p < k; p++) xc[v * k + p] = *FN(at)(x, v, vs_x, p, es_x);
    x = xc, ldx = k;
  }
  T *y = c;
  if (cs_c != 1 || rs_c < 0) {
    if (!(yc = malloc(rows * nv * sizeof(T)))) {
      free(xc);
      return -1;
    }
    if (beta != 0)
      for (size_t r = 0; r < rows; r++)
        for (size_t v = 0; v < nv; v++) yc[r * nv + v] = *FN(at)(c, r, rs_c, v, cs_c);
    y = yc, ldy = nv;
  }
  int st = FN(gemv_run)(cfg, 1, rows, k, nv, alpha, mat, (size_t)ld_m, x, ldx, beta, y, ldy);
  if (yc && st == 0)
    for (size_t r = 0; r < rows; r++)
      for (size_t v = 0; v < nv; v++) *(T *)FN(at)(c, r, rs_c, v, cs_c) = yc[r * nv + v];
  free(xc), free(yc);
  return st < 0 ? -1 : 1;
}

/* Products with m or n at most 4 as products of a matrix with vectors (the table's gemv
 * kernels): y = op(A) x for n == 1, y = x op(B) for m == 1, read along the matrix's
 * contiguous direction by row dots or by axpys of rows; C = A B for n <= 4 with A's
 * rows contiguous, and for m <= 4 with B's columns contiguous, as skinny products
 * (which stream the big operand once where tiles would pad the small side to the tile).
 * x and y go through contiguous copies when the kernel needs them.  Returns 1 when done, 0 when the layout does not
 * suit (the blocked path takes it), -1 when a copy could not be allocated. */
static int FN(gemv)(const CONFIG *cfg, size_t m, size_t n, size_t k, T alpha, const T *a,
                    ptrdiff_t rs_a, ptrdiff_t cs_a, const T *b, ptrdiff_t rs_b, ptrdiff_t cs_b,
                    T beta, T *c, ptrdiff_t rs_c, ptrdiff_t cs_c)
{
  if (m == 1 && n == 1 && cs_a != 1 && rs_b == 1) {
    /* a dot product of a strided a with a contiguous b: b is the row, a the vector */
    const T *t = a;
    a = b, b = t, rs_b = cs_a, cs_a = 1, rs_a = 0;
  }
  if (m > 1 && m <= 4 && n > 4) /* C^T = op(B)^T op(A)^T: B's columns against A's rows */
    return FN(skinny)(cfg, n, k, m, alpha, b, cs_b, rs_b, a, rs_a, cs_a, beta, c, cs_c, rs_c);
  if (n > 1 && m > 1) /* n in 2..4: A's rows against B's columns */
    return FN(skinny)(cfg, m, k, n, alpha, a, rs_a, cs_a, b, cs_b, rs_b, beta, c, rs_c, cs_c);
  /* The matrix (rows at stride ld), the vector x (k values at stride incx) and y (ny
   * values at stride incy). */
  const T *mat, *x;
  ptrdiff_t ld, incx, incy;
  size_t ny = n == 1 ? m : n;
  int dots;
  if (n == 1) { /* y (m) = A (m x k) x (k) */
    x = b, incx = rs_b, incy = rs_c, mat = a;
    if (cs_a == 1 && rs_a >= 0) dots = 1, ld = rs_a;       /* rows of A contiguous */
    else if (rs_a == 1 && cs_a >= 0) dots = 0, ld = cs_a;  /* columns of A contiguous */
    else return 0;
  } else { /* y (n) = x (k) B (k x n) */
    x = a, incx = cs_a, incy = cs_c, mat = b;
    if (cs_b == 1 && rs_b >= 0) dots = 0, ld = rs_b;       /* rows of B contiguous */
    else if (rs_b == 1 && cs_b >= 0) dots = 1, ld = cs_b;  /* columns of B contiguous */
    else return 0;
  }
  T *xc = NULL, *yc = NULL;
  if (incx != 1 && k > 1) {
    if (!(xc = malloc(k * sizeof(T)))) return -1;
    for (size_t p = 0; p < k; p++) xc[p] = x[(ptrdiff_t)p * incx];
    x = xc;
  }
  /* Row dots store y at any forward stride; axpys sum into a contiguous y. */
  T *y = c;
  ptrdiff_t ldy = incy;
  if ((!dots || incy < 0) && incy != 1 && ny > 1) {
    if (!(yc = malloc(ny * sizeof(T)))) {
      free(xc);
      return -1;
    }
    if (beta != 0)
      for (size_t i = 0; i < ny; i++) yc[i] = c[(ptrdiff_t)i * incy];
    y = yc, ldy = 1;
  }
  int st = dots ? FN(gemv_run)(cfg, 1, ny, k, 1, alpha, mat, (size_t)ld, x, 0, beta, y, (size_t)ldy)
                : FN(gemv_run)(cfg, 0, k, ny, 1, alpha, mat, (size_t)ld, x, 0, beta, y, 0);
  if (yc && st == 0)
    for (size_t i = 0; i < ny; i++) c[(ptrdiff_t)i * incy] = yc[i];
  free(xc), free(yc);
  return st < 0 ? -1 : 1;
}
