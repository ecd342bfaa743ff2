/* The native MoE-LoRA dispatch kernel (AVX2 + FMA), compiled on first use by
   glider/moe/native_kernel.py and called through ctypes (inference only: no backward).

   out[t] += c_s * Bt[e]^T (A[e] x[t])   for every slot s = (t, e, c_s), slots sorted by expert.

   x [T, din], A [N, r, din], Bt [N, r, dout], out [T, dout]: row-major float32; din and dout
   multiples of 8, r a multiple of 4 and at most 256. Slots of one expert are taken TB at a
   time, so that every 8-float row block of A[e] and Bt[e] loaded into a register serves
   TB tokens (4 rows x 3 tokens = 12 accumulators on the A side). A slot with expert -1 is
   skipped; a token repeated among one expert's slots is handled (in separate blocks). */
#include <stdint.h>
#include <immintrin.h>
#define TB 3  /* tokens per register block */
static inline float hsum8(__m256 v) {
    __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    lo = _mm_hadd_ps(lo, lo); lo = _mm_hadd_ps(lo, lo);
    return _mm_cvtss_f32(lo);
}
/* h[t][j] = coef[t] * A[j] . x[t] for nt <= TB tokens (din % 8 == 0, r % 4 == 0 here; tails handled below). */
static void a_side(const float *Ae, const float *const *xs, const float *coef, int nt, int64_t din, int64_t r, float h[TB][256]) {
    for (int64_t j = 0; j < r; j += 4) {
        __m256 acc[4][TB];
        for (int q = 0; q < 4; ++q) for (int t = 0; t < TB; ++t) acc[q][t] = _mm256_setzero_ps();
        for (int64_t i = 0; i < din; i += 8) {
            __m256 xv[TB];
            for (int t = 0; t < TB; ++t) xv[t] = t < nt ? _mm256_loadu_ps(xs[t] + i) : _mm256_setzero_ps();
            for (int q = 0; q < 4; ++q) {
                __m256 a = _mm256_loadu_ps(Ae + (j + q) * din + i);
                for (int t = 0; t < TB; ++t) acc[q][t] = _mm256_fmadd_ps(a, xv[t], acc[q][t]);
            }
        }
        for (int q = 0; q < 4; ++q) for (int t = 0; t < nt; ++t) h[t][j + q] = hsum8(acc[q][t]) * coef[t];
    }
}
static void b_side(const float *Be, float *const *os, int nt, int64_t dout, int64_t r, float h[TB][256]) {
    for (int64_t i = 0; i < dout; i += 8) {
        __m256 acc[TB];
        for (int t = 0; t < nt; ++t) acc[t] = _mm256_loadu_ps(os[t] + i);
        for (int64_t q = 0; q < r; ++q) {
            __m256 b = _mm256_loadu_ps(Be + q * dout + i);
            for (int t = 0; t < nt; ++t) acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(h[t][q]), b, acc[t]);
        }
        for (int t = 0; t < nt; ++t) _mm256_storeu_ps(os[t] + i, acc[t]);
    }
}
void segment_lora_f32(const float *x, const float *A, const float *Bt, float *out,
                      const int64_t *slot_token, const int64_t *slot_expert, const float *slot_coef,
                      int64_t S, int64_t din, int64_t dout, int64_t r) {
    float h[TB][256];
    int64_t s = 0;
    while (s < S) {
        const int64_t e = slot_expert[s];
        if (e < 0) { ++s; continue; }
        int nt = 0;
        const float *xs[TB]; float *os[TB]; float coef[TB];
        while (nt < TB && s < S && slot_expert[s] == e) {  /* up to TB slots of expert e, distinct tokens */
            float *o = out + slot_token[s] * dout;
            int repeated = 0;
            for (int t = 0; t < nt; ++t) repeated |= (os[t] == o);
            if (repeated) break;  /* the same token twice: its row goes into the next block */
            xs[nt] = x + slot_token[s] * din; os[nt] = o; coef[nt] = slot_coef[s];
            ++nt; ++s;
        }
        a_side(A + e * r * din, xs, coef, nt, din, r, h);
        b_side(Bt + e * r * dout, os, nt, dout, r, h);
    }
}
