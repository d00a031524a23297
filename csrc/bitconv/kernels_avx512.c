/* AVX-512 kernels: 8 output channels per zmm, VPOPCNTQ popcounts.
 *
 * The micro-kernel keeps P x NB (up to 4 x 4) accumulators of 8 int64 lanes
 * in registers: per filter word it loads NB weight vectors, broadcasts one
 * patch word per pixel and accumulates popcount(a xor w).
 */
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512vpopcntdq,avx512bw,avx512vl,avx512dq,popcnt")
#include <immintrin.h>
#include <stdint.h>

static inline __attribute__((always_inline)) void bc_micro_avx512(
    int P, int NB, const uint64_t *pp, int ps, const uint64_t *w, int K,
    int32_t *dst, int ds) {
    __m512i acc[4][4];
    for (int p = 0; p < P; ++p)
        for (int j = 0; j < NB; ++j) acc[p][j] = _mm512_setzero_si512();
    for (int k = 0; k < K; ++k) {
        __m512i wv[4];
        for (int j = 0; j < NB; ++j)
            wv[j] = _mm512_loadu_si512((const void *)(w + ((int64_t)j * K + k) * 8));
        for (int p = 0; p < P; ++p) {
            const __m512i a =
                _mm512_set1_epi64((long long)pp[(int64_t)p * ps + k]);
            for (int j = 0; j < NB; ++j)
                acc[p][j] = _mm512_add_epi64(
                    acc[p][j],
                    _mm512_popcnt_epi64(_mm512_xor_si512(a, wv[j])));
        }
    }
    for (int p = 0; p < P; ++p)
        for (int j = 0; j < NB; ++j)
            _mm256_storeu_si256((__m256i *)(dst + (int64_t)p * ds + j * 8),
                                _mm512_cvtepi64_epi32(acc[p][j]));
}

/* Sign bits of Cg channel-contiguous floats: bit set when x < thr. */
static inline __attribute__((always_inline)) void bc_pack_words_avx512(
    const float *x, const float *thr, int Cg, uint64_t *dst) {
    const int words = (Cg + 63) / 64;
    for (int k = 0; k < words; ++k) {
        uint64_t v = 0;
        for (int q = 0; q < 4; ++q) {
            const int c = 64 * k + 16 * q;
            if (c >= Cg) break;
            const int left = Cg - c;
            const __mmask16 m = left >= 16 ? (__mmask16)0xffff
                                           : (__mmask16)((1u << left) - 1);
            const __m512 xv = _mm512_maskz_loadu_ps(m, x + c);
            const __m512 tv =
                thr ? _mm512_maskz_loadu_ps(m, thr + c) : _mm512_setzero_ps();
            const __mmask16 lt = _mm512_mask_cmp_ps_mask(m, xv, tv, _CMP_LT_OQ);
            v |= (uint64_t)lt << (16 * q);
        }
        dst[k] = v;
    }
}

#define BC_SUFFIX avx512
#define BC_MICRO bc_micro_avx512
#define BC_PACK_WORDS bc_pack_words_avx512
#include "impl.h"
#else
#include "bitconv.h"
const bc_kernels bc_kernels_avx512 = {0, 0, "avx512"};
#endif
