/* AVX2 kernels: popcount by nibble look-up (vpshufb) and vpsadbw. */
#if defined(__x86_64__) || defined(__i386__)
#pragma GCC target("avx2,popcnt")
#include <immintrin.h>
#include <stdint.h>

static inline __attribute__((always_inline)) __m256i bc_popcnt64_avx2(
    __m256i v) {
    const __m256i lut =
        _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1,
                         1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0f);
    const __m256i lo = _mm256_and_si256(v, low);
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
    const __m256i c = _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo),
                                      _mm256_shuffle_epi8(lut, hi));
    return _mm256_sad_epu8(c, _mm256_setzero_si256());
}

static inline __attribute__((always_inline)) void bc_micro_avx2(
    int P, int NB, const uint64_t *pp, int ps, const uint64_t *w, int K,
    int32_t *dst, int ds) {
    for (int j = 0; j < NB; ++j) {
        const uint64_t *wb = w + (int64_t)j * K * 8;
        __m256i acc[4][2];
        for (int p = 0; p < P; ++p)
            acc[p][0] = acc[p][1] = _mm256_setzero_si256();
        for (int k = 0; k < K; ++k) {
            const __m256i w0 = _mm256_loadu_si256((const __m256i *)(wb + k * 8));
            const __m256i w1 =
                _mm256_loadu_si256((const __m256i *)(wb + k * 8 + 4));
            for (int p = 0; p < P; ++p) {
                const __m256i a =
                    _mm256_set1_epi64x((long long)pp[(int64_t)p * ps + k]);
                acc[p][0] = _mm256_add_epi64(
                    acc[p][0], bc_popcnt64_avx2(_mm256_xor_si256(a, w0)));
                acc[p][1] = _mm256_add_epi64(
                    acc[p][1], bc_popcnt64_avx2(_mm256_xor_si256(a, w1)));
            }
        }
        for (int p = 0; p < P; ++p) {
            int64_t t[8];
            _mm256_storeu_si256((__m256i *)t, acc[p][0]);
            _mm256_storeu_si256((__m256i *)(t + 4), acc[p][1]);
            for (int l = 0; l < 8; ++l)
                dst[(int64_t)p * ds + j * 8 + l] = (int32_t)t[l];
        }
    }
}

/* Sign bits of Cg channel-contiguous floats: bit set when x < thr. */
static inline __attribute__((always_inline)) void bc_pack_words_avx2(
    const float *x, const float *thr, int Cg, uint64_t *dst) {
    const int words = (Cg + 63) / 64;
    for (int k = 0; k < words; ++k) {
        uint64_t v = 0;
        for (int q = 0; q < 8; ++q) {
            const int c = 64 * k + 8 * q;
            if (c >= Cg) break;
            if (c + 8 <= Cg) {
                const __m256 xv = _mm256_loadu_ps(x + c);
                const __m256 tv =
                    thr ? _mm256_loadu_ps(thr + c) : _mm256_setzero_ps();
                const int m = _mm256_movemask_ps(
                    _mm256_cmp_ps(xv, tv, _CMP_LT_OQ));
                v |= (uint64_t)(unsigned)m << (8 * q);
            } else {
                for (int b = c; b < Cg; ++b)
                    v |= (uint64_t)(x[b] < (thr ? thr[b] : 0.0f)) << (b - 64 * k);
            }
        }
        dst[k] = v;
    }
}

#define BC_SUFFIX avx2
#define BC_MICRO bc_micro_avx2
#define BC_PACK_WORDS bc_pack_words_avx2
#include "impl.h"
#else
#include "bitconv.h"
const bc_kernels bc_kernels_avx2 = {0, 0, "avx2"};
#endif
