/* Byte-pair encoding's merge loops: training (find and merge the most frequent pair, again
 * and again) and encoding (apply learned merges in order).  Token ids are int32: 0-255 the
 * bytes, 256 + r the r-th merge. */
#ifndef NNK_BPE_H
#define NNK_BPE_H

#include <stddef.h>
#include <stdint.h>

#include "nnk.h"

/* Learns up to `merges` merges from ids[0..*n) (rewritten in place, *n shrinking), storing
 * merge r's pair at pairs[2 r], pairs[2 r + 1]; *done is how many were learned (fewer when
 * the sequence is down to one token).  The most frequent adjacent pair wins, ties to the
 * smallest (first id, second id); occurrences are merged left to right (aaa -> Xa). */
nnk_status nnk_bpe_train(int32_t *ids, size_t *n, size_t merges, int32_t *pairs, size_t *done);

/* Applies merges 0..merges-1 (pairs as above) to ids[0..*n) in order, in place. */
void nnk_bpe_encode(int32_t *ids, size_t *n, const int32_t *pairs, size_t merges);

#endif
