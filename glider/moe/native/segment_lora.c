/* The native MoE-LoRA dispatch kernels (AVX2 + FMA), compiled on first use by
   glider/moe/native_kernel.py and called through ctypes (inference only: no backward).

   out[t] += c * Bt[e]^T (A[e] x[t])   for every slot (t, e, c).

   x [T, din], A [N, r, din], Bt [N, r, dout], out [T, dout]: row-major float32; din and dout
   multiples of 8, r a multiple of 4 and at most 256.

   segment_lora_f32: slots sorted by expert (large libraries: each expert's weights are read
   from memory once). One expert's slots are taken up to TB = 3 at a time, so every 8-float
   block of A[e] and Bt[e] loaded into a register serves up to three tokens:
     A side: 4 rank rows x 3 tokens = 12 accumulators, 4 + 3 loads per 12 FMAs;
     B side: 3 output blocks (24 floats) x 3 tokens = 9 accumulators, 3 loads + 3
             broadcasts per 9 FMAs.
   A token repeated among one expert's slots goes into the next block.

   token_lora_f32: token order, no sorting (small libraries that stay in cache, or fewer
   slots than experts): every slot (t, j) of token t in turn.

   A slot with expert -1 does no work. */
#include <stdint.h>
#include <stdlib.h>
#include <immintrin.h>

#define TB 3      /* tokens per register block */
#define MAXR 256  /* largest rank */
#define AI __attribute__((always_inline)) static inline

AI float hsum8(__m256 v) {
    __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    lo = _mm_hadd_ps(lo, lo);
    lo = _mm_hadd_ps(lo, lo);
    return _mm_cvtss_f32(lo);
}

/* h[t][j] = coef[t] * A[j] . x[t] for NT tokens (NT a compile-time constant at each call). */
AI void a_side(const float *Ae, const float *const *xs, const float *coef, const int NT, int64_t din, int64_t r,
               float h[TB][MAXR]) {
    for (int64_t j = 0; j < r; j += 4) {
        __m256 acc[4][TB];
        for (int q = 0; q < 4; ++q)
            for (int t = 0; t < NT; ++t) acc[q][t] = _mm256_setzero_ps();
        for (int64_t i = 0; i < din; i += 8) {
            __m256 xv[TB];
            for (int t = 0; t < NT; ++t) xv[t] = _mm256_loadu_ps(xs[t] + i);
            for (int q = 0; q < 4; ++q) {
                const __m256 a = _mm256_loadu_ps(Ae + (j + q) * din + i);
                for (int t = 0; t < NT; ++t) acc[q][t] = _mm256_fmadd_ps(a, xv[t], acc[q][t]);
            }
        }
        for (int q = 0; q < 4; ++q)
            for (int t = 0; t < NT; ++t) h[t][j + q] = hsum8(acc[q][t]) * coef[t];
    }
}

/* [sum(a[0]), ..., sum(a[7])] in one vector: a transpose-and-add tree (7 instructions, not 8 hsums) */
AI __m256 sum8x8(const __m256 a[8]) {
    const __m256 t0 = _mm256_hadd_ps(a[0], a[1]), t1 = _mm256_hadd_ps(a[2], a[3]);
    const __m256 t2 = _mm256_hadd_ps(a[4], a[5]), t3 = _mm256_hadd_ps(a[6], a[7]);
    const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
    return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

/* h[0][j] = coef * A[j] . x for one token: 8 rank rows at a time, reduced together (small din in
   token order is dominated by the reductions), then a 4-row tail. */
AI void a_side_one(const float *Ae, const float *xrow, float coef, int64_t din, int64_t r, float h[TB][MAXR]) {
    int64_t j = 0;
    for (; j + 8 <= r; j += 8) {
        __m256 acc[8];
        for (int q = 0; q < 8; ++q) acc[q] = _mm256_setzero_ps();
        for (int64_t i = 0; i < din; i += 8) {
            const __m256 xv = _mm256_loadu_ps(xrow + i);
            for (int q = 0; q < 8; ++q) acc[q] = _mm256_fmadd_ps(_mm256_loadu_ps(Ae + (j + q) * din + i), xv, acc[q]);
        }
        _mm256_storeu_ps(&h[0][j], _mm256_mul_ps(sum8x8(acc), _mm256_set1_ps(coef)));
    }
    if (j < r) a_side(Ae + j * din, &xrow, &coef, 1, din, 4, (float (*)[MAXR])&h[0][j]);
}

/* os[t][i0..dout) += (Bt^T h[t])[i0..dout) for NT tokens: 24-float blocks of the output, then 8-float tails. */
AI void b_side(const float *Be, float *const *os, const int NT, int64_t dout, int64_t r, float h[TB][MAXR], int64_t i0) {
    int64_t i = i0;
    for (; i + 24 <= dout; i += 24) {
        __m256 acc[TB][3];
        for (int t = 0; t < NT; ++t)
            for (int c = 0; c < 3; ++c) acc[t][c] = _mm256_loadu_ps(os[t] + i + 8 * c);
        for (int64_t q = 0; q < r; ++q) {
            const float *row = Be + q * dout + i;
            const __m256 b0 = _mm256_loadu_ps(row), b1 = _mm256_loadu_ps(row + 8), b2 = _mm256_loadu_ps(row + 16);
            for (int t = 0; t < NT; ++t) {
                const __m256 hv = _mm256_broadcast_ss(&h[t][q]);
                acc[t][0] = _mm256_fmadd_ps(hv, b0, acc[t][0]);
                acc[t][1] = _mm256_fmadd_ps(hv, b1, acc[t][1]);
                acc[t][2] = _mm256_fmadd_ps(hv, b2, acc[t][2]);
            }
        }
        for (int t = 0; t < NT; ++t)
            for (int c = 0; c < 3; ++c) _mm256_storeu_ps(os[t] + i + 8 * c, acc[t][c]);
    }
    for (; i < dout; i += 8) {
        __m256 acc[TB];
        for (int t = 0; t < NT; ++t) acc[t] = _mm256_loadu_ps(os[t] + i);
        for (int64_t q = 0; q < r; ++q) {
            const __m256 b = _mm256_loadu_ps(Be + q * dout + i);
            for (int t = 0; t < NT; ++t) acc[t] = _mm256_fmadd_ps(_mm256_broadcast_ss(&h[t][q]), b, acc[t]);
        }
        for (int t = 0; t < NT; ++t) _mm256_storeu_ps(os[t] + i, acc[t]);
    }
}

/* os[0] += Bt^T h[0] for one token: 64-float blocks (8 independent accumulator chains), then 8-float tails */
AI void b_side_one(const float *Be, float *orow, int64_t dout, int64_t r, float h[TB][MAXR]) {
    int64_t i = 0;
    for (; i + 64 <= dout; i += 64) {
        __m256 acc[8];
        for (int c = 0; c < 8; ++c) acc[c] = _mm256_loadu_ps(orow + i + 8 * c);
        for (int64_t q = 0; q < r; ++q) {
            const __m256 hv = _mm256_broadcast_ss(&h[0][q]);
            const float *row = Be + q * dout + i;
            for (int c = 0; c < 8; ++c) acc[c] = _mm256_fmadd_ps(hv, _mm256_loadu_ps(row + 8 * c), acc[c]);
        }
        for (int c = 0; c < 8; ++c) _mm256_storeu_ps(orow + i + 8 * c, acc[c]);
    }
    float *os[1] = {orow};
    if (i < dout) b_side(Be, os, 1, dout, r, h, i);
}

/* One block of NT tokens of one expert (NT in 1..TB, dispatched to a specialised body). */
static void block(const float *Ae, const float *Be, const float *const *xs, float *const *os, const float *coef, int nt,
                  int64_t din, int64_t dout, int64_t r) {
    float h[TB][MAXR];
    switch (nt) {
        case 3: a_side(Ae, xs, coef, 3, din, r, h); b_side(Be, os, 3, dout, r, h, 0); break;
        case 2: a_side(Ae, xs, coef, 2, din, r, h); b_side(Be, os, 2, dout, r, h, 0); break;
        default: a_side_one(Ae, xs[0], coef[0], din, r, h); b_side_one(Be, os[0], dout, r, h); break;
    }
}

void segment_lora_f32(const float *x, const float *A, const float *Bt, float *out,
                      const int64_t *slot_token, const int64_t *slot_expert, const float *slot_coef,
                      int64_t S, int64_t din, int64_t dout, int64_t r) {
    int64_t s = 0;
    while (s < S) {
        const int64_t e = slot_expert[s];
        if (e < 0) { ++s; continue; }
        if (s == 0 || slot_expert[s - 1] != e) {  /* a new expert: prefetch the next one's weights into L2 */
            int64_t n = s;
            while (n < S && slot_expert[n] == e) ++n;
            if (n < S) {
                const char *pa = (const char *)(A + slot_expert[n] * r * din), *pb = (const char *)(Bt + slot_expert[n] * r * dout);
                for (int64_t off = 0; off < r * din * 4; off += 64) _mm_prefetch(pa + off, _MM_HINT_T1);
                for (int64_t off = 0; off < r * dout * 4; off += 64) _mm_prefetch(pb + off, _MM_HINT_T1);
            }
        }
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
        block(A + e * r * din, Bt + e * r * dout, xs, os, coef, nt, din, dout, r);
    }
}

/* Sorted by expert: expert_idx and weights are [T, k], scale [N]; the slots are counting-sorted
   by expert (stable: tokens in order within an expert; -1 slots dropped), then segment_lora_f32.
   Returns 1 (and does nothing) when an expert id is >= N or < -1, 2 when out of memory, else 0. */
int sorted_lora_f32(const float *x, const float *A, const float *Bt, float *out,
                    const int64_t *expert_idx, const float *weights, const float *scale, int64_t T, int64_t k,
                    int64_t N, int64_t din, int64_t dout, int64_t r) {
    const int64_t S = T * k;
    for (int64_t s = 0; s < S; ++s)
        if (expert_idx[s] >= N || expert_idx[s] < -1) return 1;
    int64_t *start = calloc((size_t)N + 1, sizeof(int64_t));
    int64_t *slot_token = malloc((size_t)S * sizeof(int64_t) + 1), *slot_expert = malloc((size_t)S * sizeof(int64_t) + 1);
    float *slot_coef = malloc((size_t)S * sizeof(float) + 1);
    if (!start || !slot_token || !slot_expert || !slot_coef) {
        free(start); free(slot_token); free(slot_expert); free(slot_coef);
        return 2;
    }
    for (int64_t s = 0; s < S; ++s)
        if (expert_idx[s] >= 0) ++start[expert_idx[s] + 1];
    for (int64_t e = 0; e < N; ++e) start[e + 1] += start[e];
    const int64_t used = start[N];
    for (int64_t s = 0; s < S; ++s) {
        const int64_t e = expert_idx[s];
        if (e < 0) continue;
        const int64_t at = start[e]++;
        slot_token[at] = s / k; slot_expert[at] = e; slot_coef[at] = weights[s] * scale[e];
    }
    segment_lora_f32(x, A, Bt, out, slot_token, slot_expert, slot_coef, used, din, dout, r);
    free(start); free(slot_token); free(slot_expert); free(slot_coef);
    return 0;
}

/* Token order: expert_idx and weights are [T, k], scale [N];
   out[t] += sum_j weights[t, j] scale[e] Bt[e]^T A[e] x[t]. Returns 1 (and does nothing) when an
   expert id is >= N or < -1, else 0. */
int token_lora_f32(const float *x, const float *A, const float *Bt, float *out,
                   const int64_t *expert_idx, const float *weights, const float *scale, int64_t T, int64_t k,
                   int64_t N, int64_t din, int64_t dout, int64_t r) {
    for (int64_t s = 0; s < T * k; ++s)
        if (expert_idx[s] >= N || expert_idx[s] < -1) return 1;
    for (int64_t t = 0; t < T; ++t) {
        const float *xs[1] = {x + t * din};
        float *os[1] = {out + t * dout};
        for (int64_t j = 0; j < k; ++j) {
            const int64_t e = expert_idx[t * k + j];
            if (e < 0) continue;
            const float coef = weights[t * k + j] * scale[e];
            block(A + e * r * din, Bt + e * r * dout, xs, os, &coef, 1, din, dout, r);
        }
    }
    return 0;
}
