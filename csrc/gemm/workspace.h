/* GEMM's packing buffers, kept by each calling thread from one call to the next
 * (csrc/gemm/workspace.c).  Compiled without ISA flags. */
#ifndef NNK_GEMM_WORKSPACE_H
#define NNK_GEMM_WORKSPACE_H

#include <stddef.h>

/* At least `bytes` bytes, 64-byte aligned, owned by the calling thread: valid until its
 * next call (which may move it) and freed when the thread exits.  NULL when memory is
 * short (the buffer held before stays valid and held). */
void *nnk_gemm_workspace(size_t bytes);

#endif
