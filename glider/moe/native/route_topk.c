/* Phatgoose top-k routing of every token in one call (compiled with segment_lora.c).

   The Phatgoose logit of token x and expert i is LN(x) . k_i with k_i = LN(g_i) / sqrt(d):
       LN(x) . k_i = rstd(x) * (x . k_i - mean(x) * sum_d k_i)
   so the caller computes xk = x K^T with one GEMM on the raw tokens (no LN(x) tensor), and
   this kernel finishes each token:
       mean, var over d (two passes), rstd = 1 / sqrt(var + eps)
   Tokens with mask[t] == 0 (padding; mask may be NULL) are not routed: expert -1, weight 0.
       z_i = weight * rstd * xk_i - weight * rstd * mean * ksum_i + bias[b, i]     (b = t / rows_per_bias)
       p = softmax(z); keep the k largest (lower index first on ties);
       w_j = p_j / (sum of the kept p + 1e-6)
   Returns 0, or 1 when a logit is NaN or +inf, or 2 when every expert of a token is -inf
   (the caller raises the router's error), 3 for N > 4096 or k > 64 or k > N, 5 out of memory. */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define MAXK 64

static inline float hsum(__m256 v) {
    __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

static inline float hmax(__m256 v) {
    __m128 lo = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    lo = _mm_max_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_max_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

/* mask of the first n (0..8) lanes */
static inline __m256i first_lanes(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* exp of 8 floats <= 0 (the shifted logits): Cody-Waite range reduction to r in [-ln2/2, ln2/2],
   a degree-6 polynomial for e^r (relative error ~1e-7), times 2^n built in the exponent bits;
   below -87.3 (and -inf) the result is 0. Used for the softmax denominator only. */
static inline __m256 exp_nonpositive(__m256 x) {
    const __m256 underflow = _mm256_cmp_ps(x, _mm256_set1_ps(-87.3f), _CMP_LT_OQ);
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.3f));
    const __m256 n = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f)));
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 y = _mm256_set1_ps(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.f)));
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    y = _mm256_mul_ps(y, _mm256_castsi256_ps(bits));
    return _mm256_andnot_ps(underflow, y);
}

/* sum_i exp(z_i - zmax) over z padded to NP (a multiple of 8) with -inf */
static float softmax_denominator(const float *z, int64_t NP, float zmax) {
    __m256 acc = _mm256_setzero_ps();
    const __m256 m = _mm256_set1_ps(zmax);
    for (int64_t i = 0; i < NP; i += 8) acc = _mm256_add_ps(acc, exp_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(z + i), m)));
    return hsum(acc);
}

/* sum of the 8-float blocks of row[0..d) minus shift (squared when squares), the d % 8 tail
   through a masked load; 4 independent chains */
static inline float row_sum(const float *row, int64_t d, __m256 shift, int squares) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    int64_t i = 0;
    for (; i + 32 <= d; i += 32)
        for (int c = 0; c < 4; ++c) {
            const __m256 v = _mm256_sub_ps(_mm256_loadu_ps(row + i + 8 * c), shift);
            acc[c] = squares ? _mm256_fmadd_ps(v, v, acc[c]) : _mm256_add_ps(acc[c], v);
        }
    for (int c = 0; i < d; i += 8, ++c) {
        const __m256i m = first_lanes(d - i);
        const __m256 v = _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(row + i, m), shift), _mm256_castsi256_ps(m));
        acc[c & 3] = squares ? _mm256_fmadd_ps(v, v, acc[c & 3]) : _mm256_add_ps(acc[c & 3], v);
    }
    return hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
}

/* mean and 1 / sqrt(var + eps) of one row: two passes (sum, then squared deviations) */
static void row_moments(const float *row, int64_t d, float eps, float *mean_out, float *rstd_out) {
    const float mean = row_sum(row, d, _mm256_setzero_ps(), 0) / (float)d;
    const float ss = row_sum(row, d, _mm256_set1_ps(mean), 1);
    *mean_out = mean;
    *rstd_out = 1.f / sqrtf(ss / (float)d + eps);
}

/* z_i = weight * rstd * (xk_i - mean * ksum_i) + bias_i for all i; returns max z, or NaN when a z is NaN or +inf */
static float logits(const float *xk, const float *ksum, const float *bias, int64_t N, float weight, float mean,
                    float rstd, float *z) {
    const float scale = weight * rstd;
    const __m256 vs = _mm256_set1_ps(scale), vm = _mm256_set1_ps(mean * scale), inf = _mm256_set1_ps(INFINITY);
    __m256 vmax = _mm256_set1_ps(-INFINITY), bad = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= N; i += 8) {
        __m256 v = _mm256_fnmadd_ps(vm, _mm256_loadu_ps(ksum + i), _mm256_mul_ps(vs, _mm256_loadu_ps(xk + i)));
        if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + i));
        bad = _mm256_or_ps(bad, _mm256_or_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q), _mm256_cmp_ps(v, inf, _CMP_EQ_OQ)));
        vmax = _mm256_max_ps(vmax, v);
        _mm256_storeu_ps(z + i, v);
    }
    if (i < N) {  /* the tail through masked loads; lanes past N stay -inf */
        const __m256i m = first_lanes(N - i);
        __m256 v = _mm256_fnmadd_ps(vm, _mm256_maskload_ps(ksum + i, m), _mm256_mul_ps(vs, _mm256_maskload_ps(xk + i, m)));
        if (bias) v = _mm256_add_ps(v, _mm256_maskload_ps(bias + i, m));
        v = _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), v, _mm256_castsi256_ps(m));
        bad = _mm256_or_ps(bad, _mm256_or_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q), _mm256_cmp_ps(v, inf, _CMP_EQ_OQ)));
        vmax = _mm256_max_ps(vmax, v);
        _mm256_storeu_ps(z + i, v);  /* z is padded to a multiple of 8: -inf past N */
    }
    const float zmax = hmax(vmax);
    const int invalid = _mm256_movemask_ps(bad);
    return invalid ? NAN : zmax;
}

/* the lanes of the 8 logits from index i that are among best[0..j) */
static inline __m256 chosen_lanes(int64_t i, const int64_t *best, int64_t j) {
    const __m256i lanes = _mm256_add_epi32(_mm256_set1_epi32((int)i), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m256i hit = _mm256_setzero_si256();
    for (int64_t q = 0; q < j; ++q) hit = _mm256_or_si256(hit, _mm256_cmpeq_epi32(lanes, _mm256_set1_epi32((int)best[q])));
    return _mm256_castsi256_ps(hit);
}

/* the largest logit not among best[0..j) (z padded to a multiple of 8 with -inf) */
static float max_unchosen(const float *z, int64_t NP, const int64_t *best, int64_t j) {
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    for (int64_t i = 0; i < NP; i += 8)
        vmax = _mm256_max_ps(vmax, _mm256_blendv_ps(_mm256_loadu_ps(z + i), _mm256_set1_ps(-INFINITY), chosen_lanes(i, best, j)));
    return hmax(vmax);
}

/* the lowest index not among best[0..j) whose logit equals m */
static int64_t first_equal(const float *z, int64_t N, float m, const int64_t *best, int64_t j) {
    const __m256 vm = _mm256_set1_ps(m);
    for (int64_t i = 0; i < N; i += 8) {
        const __m256 eq = _mm256_andnot_ps(chosen_lanes(i, best, j), _mm256_cmp_ps(_mm256_loadu_ps(z + i), vm, _CMP_EQ_OQ));
        unsigned mask = (unsigned)_mm256_movemask_ps(eq);
        if (N - i < 8) mask &= (1u << (N - i)) - 1u;
        if (mask) return i + __builtin_ctz(mask);
    }
    return -1;  /* unreachable: k <= N */
}

/* the k largest logits, largest first, lower index first on ties: k vector passes (a max that skips
   the chosen, then the first index holding it); z is not modified */
static void top_k(const float *z, int64_t N, int64_t NP, int64_t k, float first_max, int64_t *best, float *best_z) {
    for (int64_t j = 0; j < k; ++j) {
        const float m = j == 0 ? first_max : max_unchosen(z, NP, best, j);
        best[j] = first_equal(z, N, m, best, j);
        best_z[j] = m;
    }
}

#define BT 8  /* tokens per phase block: each phase runs over 8 independent tokens (instruction-level parallelism) */

int phatgoose_topk_f32(const float *x, int64_t T, int64_t d, const float *xk, int64_t xk_stride,
                       const float *ksum, int64_t N, float eps, float weight, const float *bias,
                       int64_t rows_per_bias, const uint8_t *mask, int64_t k, int64_t *idx_out, float *w_out) {
    if (N > 4096 || k > MAXK || k > N) return 3;
    const int64_t NP = (N + 7) / 8 * 8;
    float *zbuf = malloc((size_t)(BT * NP) * sizeof(float));
    if (!zbuf) return 5;
    int status = 0;
    for (int64_t t0 = 0; t0 < T && !status; t0 += BT) {
        const int64_t nb = T - t0 < BT ? T - t0 : BT;
        float mean[BT], rstd[BT], zmax[BT], total[BT];
        for (int64_t b = 0; b < nb; ++b)
            if (!mask || mask[t0 + b]) row_moments(x + (t0 + b) * d, d, eps, &mean[b], &rstd[b]);
        for (int64_t b = 0; b < nb && !status; ++b) {
            const int64_t t = t0 + b;
            if (mask && !mask[t]) continue;
            zmax[b] = logits(xk + t * xk_stride, ksum, bias ? bias + (t / rows_per_bias) * N : 0, N, weight, mean[b],
                             rstd[b], zbuf + b * NP);
            if (isnan(zmax[b])) status = 1;
            else if (zmax[b] == -INFINITY) status = 2;
        }
        if (status) break;
        for (int64_t b = 0; b < nb; ++b)
            if (!mask || mask[t0 + b]) total[b] = softmax_denominator(zbuf + b * NP, NP, zmax[b]);
        for (int64_t b = 0; b < nb; ++b) {
            const int64_t t = t0 + b;
            if (mask && !mask[t]) {  /* a padding token: no expert */
                for (int64_t j = 0; j < k; ++j) { idx_out[t * k + j] = -1; w_out[t * k + j] = 0.f; }
                continue;
            }
            int64_t best[MAXK];
            float best_z[MAXK], p[MAXK], kept = 0.f;
            top_k(zbuf + b * NP, N, NP, k, zmax[b], best, best_z);
            for (int64_t j = 0; j < k; ++j) { p[j] = expf(best_z[j] - zmax[b]) / total[b]; kept += p[j]; }
            for (int64_t j = 0; j < k; ++j) {
                idx_out[t * k + j] = best[j];
                w_out[t * k + j] = p[j] / (kept + 1e-6f);
            }
        }
    }
    free(zbuf);
    return status;
}
