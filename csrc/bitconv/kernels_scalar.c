/* Portable scalar kernels (no instruction-set extension). */
#include <stdint.h>

static inline __attribute__((always_inline)) void bc_micro_scalar(
    int P, int NB, const uint64_t *pp, int ps, const uint64_t *w, int K,
    int32_t *dst, int ds) {
    for (int p = 0; p < P; ++p)
        for (int j = 0; j < NB * 8; ++j) {
            const uint64_t *wj = w + (int64_t)(j / 8) * K * 8 + j % 8;
            const uint64_t *a = pp + (int64_t)p * ps;
            int32_t s = 0;
            for (int k = 0; k < K; ++k)
                s += __builtin_popcountll(a[k] ^ wj[(int64_t)k * 8]);
            dst[(int64_t)p * ds + j] = s;
        }
}

#define BC_SUFFIX scalar
#define BC_MICRO bc_micro_scalar
#include "impl.h"
