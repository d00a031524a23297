/* Scalar kernels using the hardware POPCNT instruction. */
#if defined(__x86_64__) || defined(__i386__)
#pragma GCC target("popcnt")
#endif
#include <stdint.h>

static inline __attribute__((always_inline)) void bc_micro_popcnt(
    int P, int NB, const uint64_t *pp, int ps, const uint64_t *w, int K,
    int32_t *dst, int ds) {
    for (int j0 = 0; j0 < NB * 8; j0 += 8)
        for (int p = 0; p < P; ++p) {
            const uint64_t *a = pp + (int64_t)p * ps;
            const uint64_t *wb = w + (int64_t)(j0 / 8) * K * 8;
            int32_t s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            for (int k = 0; k < K; ++k) {
                const uint64_t v = a[k];
                for (int l = 0; l < 8; ++l)
                    s[l] += __builtin_popcountll(v ^ wb[(int64_t)k * 8 + l]);
            }
            for (int l = 0; l < 8; ++l) dst[(int64_t)p * ds + j0 + l] = s[l];
        }
}

#define BC_SUFFIX popcnt
#define BC_MICRO bc_micro_popcnt
#include "impl.h"
