/* Pack and conv row drivers, instantiated once per instruction set.
 *
 * The including file sets the target (#pragma GCC target), defines
 * BC_SUFFIX (name suffix), BC_MICRO(P, NB) (a micro-kernel computing the
 * popcounts of P <= 4 pixels against NB <= 4 blocks of 8 output channels)
 * and optionally BC_PACK_WORDS (fast packing of channel-contiguous input).
 */
#include <stdlib.h>
#include <string.h>

#include "bitconv.h"

#define BC_CAT2(a, b) a##b
#define BC_CAT(a, b) BC_CAT2(a, b)
#define BC_NAME(n) BC_CAT(n, BC_SUFFIX)
#define BC_STR2(x) #x
#define BC_STR(x) BC_STR2(x)

/* The micro-kernel with compile-time P and NB (so its loops unroll), on
 * the caller's pp, pstride, w, K, dst and dstride. */
#define BC_MC(p, nb)                                                      \
    case (p)*8 + (nb):                                                    \
        BC_MICRO(p, nb, pp, pstride, w, K, dst, dstride);                 \
        break;
#define BC_DISPATCH_MICRO(P, NB)                                          \
    switch ((P)*8 + (NB)) {                                               \
        BC_MC(1, 1) BC_MC(1, 2) BC_MC(1, 3) BC_MC(1, 4)                   \
        BC_MC(2, 1) BC_MC(2, 2) BC_MC(2, 3) BC_MC(2, 4)                   \
        BC_MC(3, 1) BC_MC(3, 2) BC_MC(3, 3) BC_MC(3, 4)                   \
        BC_MC(4, 1) BC_MC(4, 2) BC_MC(4, 3) BC_MC(4, 4)                   \
        default: break;                                                   \
    }

#define BC_MAXP 4
#define BC_MAXNB 4

/* Pack rows r of [0, N * Hp) of the padded buffer. */
static void BC_NAME(pack_rows_)(const bc_args *a, int r0, int r1) {
    const int words = a->G * a->Wg;
    for (int r = r0; r < r1; ++r) {
        const int n = r / a->Hp, hp = r % a->Hp, h = hp - a->pt;
        uint64_t *dst_row = a->packed + (int64_t)r * a->Wp * words;
        for (int wp = 0; wp < a->Wp; ++wp) {
            const int w = wp - a->pl;
            uint64_t *dst = dst_row + (int64_t)wp * words;
            if (h < 0 || h >= a->H || w < 0 || w >= a->W) {
                for (int g = 0; g < a->G; ++g)
                    for (int k = 0; k < a->Wg; ++k) {
                        uint64_t v = 0;
                        if (a->pad_mode == BC_PAD_MINUS) {
                            const int valid = a->Cg - 64 * k;
                            v = valid >= 64 ? ~(uint64_t)0
                                            : (((uint64_t)1 << valid) - 1);
                        }
                        dst[g * a->Wg + k] = v;
                    }
                continue;
            }
            const float *src =
                a->x + n * a->xs[0] + h * a->xs[2] + w * a->xs[3];
            for (int g = 0; g < a->G; ++g) {
                const int c0 = g * a->Cg;
#ifdef BC_PACK_WORDS
                if (a->xs[1] == 1) {
                    BC_PACK_WORDS(src + c0, a->thr ? a->thr + c0 : NULL,
                                  a->Cg, dst + g * a->Wg);
                    continue;
                }
#endif
                for (int k = 0; k < a->Wg; ++k) {
                    uint64_t v = 0;
                    const int cend = (k + 1) * 64 < a->Cg ? 64 : a->Cg - 64 * k;
                    for (int b = 0; b < cend; ++b) {
                        const int c = c0 + 64 * k + b;
                        const float t = a->thr ? a->thr[c] : 0.0f;
                        v |= (uint64_t)(src[c * a->xs[1]] < t) << b;
                    }
                    dst[g * a->Wg + k] = v;
                }
            }
        }
    }
}

/* The epilogue of one output pixel: popcounts -> dots -> out (in place). */
static inline void BC_NAME(epilogue_)(const bc_args *a, int n, int oh, int ow,
                                      int32_t *dot) {
    const int Cout = a->Cout;
    for (int o = 0; o < Cout; ++o) dot[o] = a->kvalid - 2 * dot[o];
    if (a->pad_mode == BC_PAD_ZERO) {
        const int ih0 = oh * a->sh - a->pt, iw0 = ow * a->sw - a->pl;
        for (int i = 0; i < a->kh; ++i) {
            const int ih = ih0 + i * a->dh;
            for (int j = 0; j < a->kw; ++j) {
                const int iw = iw0 + j * a->dw;
                if (ih >= 0 && ih < a->H && iw >= 0 && iw < a->W) continue;
                /* the +1 padding added the tap's weights: take them out */
                const int t = i * a->kw + j;
                for (int o = 0; o < Cout; ++o)
                    dot[o] -= a->tapsum[o * a->kh * a->kw + t];
            }
        }
    }
    float *out = a->out + (((int64_t)n * a->Ho + oh) * a->Wo + ow) * a->ops;
    if (a->raw) {
        for (int o = 0; o < Cout; ++o) out[o] = (float)dot[o];
        return;
    }
    const float ss = a->ss ? a->ss[n] : 1.0f;
    for (int o = 0; o < Cout; ++o)
        out[o] = (float)dot[o] * (a->alpha[o] * ss) + a->beta[o];
    if (a->res) {
        const float *res =
            a->res + n * a->rs[0] + oh * a->rs[2] + ow * a->rs[3];
        if (a->rs[1] == 1)
            for (int o = 0; o < Cout; ++o) out[o] += res[o];
        else
            for (int o = 0; o < Cout; ++o) out[o] += res[o * a->rs[1]];
    }
    if (a->act == BC_ACT_CLAMP) {
        const float lo = a->lo, hi = a->hi;
        for (int o = 0; o < Cout; ++o)
            out[o] = out[o] < lo ? lo : (out[o] > hi ? hi : out[o]);
    } else if (a->act == BC_ACT_RPRELU) {
        for (int o = 0; o < Cout; ++o) {
            const float v = out[o] - a->ag[o];
            out[o] = (v > 0 ? v : a->as[o] * v) + a->az[o];
        }
    }
}

/* Output rows r of [0, N * Ho): gather patches, micro-kernels, epilogue. */
static void BC_NAME(conv_rows_)(const bc_args *a, int r0, int r1) {
    const int words = a->G * a->Wg, K = a->K, G = a->G;
    /* patches [P][G][K], popcounts [P][Cout] (+ slack for full blocks) */
    uint64_t *patch =
        (uint64_t *)malloc(sizeof(uint64_t) * BC_MAXP * (int64_t)G * K);
    if (!patch) {
        *a->failed = 1;
        return;
    }
    const int pstride = G * K;
    const int popw = a->OBg * 8;
    int32_t *pop = (int32_t *)malloc(sizeof(int32_t) * BC_MAXP * G * popw);
    if (!pop) {
        *a->failed = 1;
        free(patch);
        return;
    }
    for (int r = r0; r < r1; ++r) {
        const int n = r / a->Ho, oh = r % a->Ho;
        for (int ow0 = 0; ow0 < a->Wo; ow0 += BC_MAXP) {
            const int P = a->Wo - ow0 < BC_MAXP ? a->Wo - ow0 : BC_MAXP;
            for (int p = 0; p < P; ++p) {
                const int ow = ow0 + p;
                for (int i = 0; i < a->kh; ++i) {
                    const int hp = oh * a->sh + i * a->dh;
                    const uint64_t *row =
                        a->packed + ((int64_t)n * a->Hp + hp) * a->Wp * words;
                    for (int j = 0; j < a->kw; ++j) {
                        const uint64_t *src =
                            row + (int64_t)(ow * a->sw + j * a->dw) * words;
                        const int t = i * a->kw + j;
                        for (int g = 0; g < G; ++g)
                            memcpy(patch + p * pstride + g * K + t * a->Wg,
                                   src + g * a->Wg, sizeof(uint64_t) * a->Wg);
                    }
                }
            }
            for (int g = 0; g < G; ++g) {
                const uint64_t *wg = a->weight + (int64_t)g * a->OBg * K * 8;
                for (int ob = 0; ob < a->OBg; ob += BC_MAXNB) {
                    const int NB =
                        a->OBg - ob < BC_MAXNB ? a->OBg - ob : BC_MAXNB;
                    const uint64_t *w = wg + (int64_t)ob * K * 8;
                    const uint64_t *pp = patch + g * K;
                    int32_t *dst = pop + g * popw + ob * 8;
                    const int dstride = G * popw;
                    BC_DISPATCH_MICRO(P, NB);
                }
            }
            for (int p = 0; p < P; ++p) {
                int32_t *pp = pop + p * G * popw;
                if (G > 1 || popw != a->Cout) { /* compact to [Cout] */
                    for (int g = 0; g < G; ++g)
                        memmove(pp + g * a->Cog, pp + g * popw,
                                sizeof(int32_t) * a->Cog);
                }
                BC_NAME(epilogue_)(a, n, oh, ow0 + p, pp);
            }
        }
    }
    free(pop);
    free(patch);
}

const bc_kernels BC_NAME(bc_kernels_) = {
    BC_NAME(pack_rows_), BC_NAME(conv_rows_), BC_STR(BC_SUFFIX)};
