/* Bit-packed XNOR-popcount binary convolution engine: shared declarations.
 *
 * Layouts
 * - Packed activations: uint64 words, NHWC with a padded border:
 *   [N][Hp][Wp][G][Wg], Wg = ceil(Cg / 64) words per group, bit c % 64 of
 *   word c / 64 set when the activation is -1 (x < threshold_c). Unused bits
 *   of the last word of a group are 0.
 * - Packed weights: [G][OBg][K][8] uint64, OBg = ceil(Cog / 8) blocks of 8
 *   output channels, K = kh * kw * Wg words per output channel ordered
 *   (tap row, tap col, word); bit set for a -1 weight; padded channels 0.
 * - Output: float32 NHWC, channel stride 1, `ops` elements per pixel
 *   (Cout for a channels_last tensor; more to write into a channel slice).
 *
 * The dot product of a +-1 patch and a +-1 filter is Kvalid - 2 popcount(a
 * xor w), Kvalid = Cg * kh * kw.  A border of zero words is the +1 padding;
 * words with every valid bit set are the -1 padding; zero padding is the +1
 * padding minus, per output channel, the sum of the filter's taps that fall
 * outside the input (tapsum).
 */
#ifndef CMIM_BITCONV_H
#define CMIM_BITCONV_H

#include <stdint.h>

#define BC_ACT_NONE 0
#define BC_ACT_CLAMP 1  /* min(max(v, lo), hi): Hardtanh, ReLU (hi=inf) */
#define BC_ACT_RPRELU 2 /* v>g ? v-g+z : s*(v-g)+z, per channel g, s, z */

#define BC_PAD_PLUS 0  /* pad the binary input with +1 */
#define BC_PAD_MINUS 1 /* pad with -1 */
#define BC_PAD_ZERO 2  /* pad with 0: +1 padding and the tapsum correction */

typedef struct {
    /* input (float32, any strides, in elements) */
    const float *x;
    int64_t xs[4]; /* strides n, c, h, w */
    int N, C, H, W;
    const float *thr; /* per-channel threshold (NULL: 0) */
    /* geometry */
    int G, Cg, Wg, Cout, Cog, OBg, kh, kw, sh, sw, dh, dw;
    int pt, pl, pb, pr; /* padding top, left, bottom, right */
    int Hp, Wp, Ho, Wo, K, kvalid, pad_mode;
    /* packed buffers */
    uint64_t *packed;       /* [N][Hp][Wp][G*Wg], filled by the pack step */
    const uint64_t *weight; /* see above */
    const int32_t *tapsum;  /* [Cout][kh*kw] for BC_PAD_ZERO */
    /* epilogue: v = (Kvalid - 2 pop) * alpha_o * ss_n + beta_o (+ res) */
    const float *alpha, *beta, *ss;
    const float *res;
    int64_t rs[4];
    int act;
    float lo, hi;
    const float *ag, *as, *az;
    float *out; /* NHWC, channel stride 1 */
    int64_t ops; /* elements between output pixels (>= Cout) */
    int raw;    /* store the integer dot products (as float), no epilogue */
    int *failed; /* set to 1 by a worker that could not allocate */
} bc_args;

typedef struct {
    void (*pack_rows)(const bc_args *a, int r0, int r1);
    void (*conv_rows)(const bc_args *a, int r0, int r1);
    const char *name;
} bc_kernels;

extern const bc_kernels bc_kernels_scalar;
extern const bc_kernels bc_kernels_popcnt;
extern const bc_kernels bc_kernels_avx2;
extern const bc_kernels bc_kernels_avx512;

/* Run fn(ctx, i0, i1) over [0, total) on `threads` threads (this one
 * included), in contiguous chunks. */
typedef void (*bc_range_fn)(void *ctx, int i0, int i1);
int bc_parallel_for(int threads, int total, bc_range_fn fn, void *ctx);

#endif
