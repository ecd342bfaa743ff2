/* One routed MoE-LoRA module's inference in one call (compiled with segment_lora.c,
   route_topk.c and routing_stats.c):

     1. Phatgoose top-k routing of every real token (phatgoose_topk_f32; tokens with
        mask[t] == 0, i.e. padding, get no expert: -1, weight 0); on a non-finite logit
        nothing is written and its status is returned (the caller reruns the ATen path,
        which raises the router's error);
     2. the routing statistics of the batch, when sums is not NULL (routing_stats_f32; each token
        counted stats_repeat times when it stands for identical rows routed once);
     3. out[t] += sum_j w[t, j] scale[e] Bt[e]^T A[e] x[t]: in token order (token_lora_f32),
        or, with sorted != 0, slots counting-sorted by expert (segment_lora_f32: each
        expert's weights read once, for large libraries).
   Returns 0, the router's status (1 NaN/+inf logit, 2 a token with every expert at -inf,
   3 sizes the router does not take), 4 for a task id out of range, 5 when out of memory. */
#include <stdint.h>
#include <stdlib.h>

int phatgoose_topk_f32(const float *x, int64_t T, int64_t d, const float *xk, int64_t xk_stride,
                       const float *ksum, int64_t N, float eps, float weight, const float *bias,
                       int64_t rows_per_bias, const uint8_t *mask, int64_t k, int64_t *idx_out, float *w_out);
int routing_stats_f32(const int64_t *expert_idx, const float *weights, const int64_t *task, const uint8_t *mask,
                      int64_t T, int64_t k, int64_t N, int64_t tasks, float *sums, float *counts, float repeat);
int token_lora_f32(const float *x, const float *A, const float *Bt, float *out,
                   const int64_t *expert_idx, const float *weights, const float *scale, int64_t T, int64_t k,
                   int64_t N, int64_t din, int64_t dout, int64_t r);
void segment_lora_f32(const float *x, const float *A, const float *Bt, float *out,
                      const int64_t *slot_token, const int64_t *slot_expert, const float *slot_coef,
                      int64_t S, int64_t din, int64_t dout, int64_t r);

/* slots (t, j) counting-sorted by expert, then the sorted kernel */
static int sorted_dispatch(const float *x, const float *A, const float *Bt, const float *scale, float *out,
                           const int64_t *idx, const float *w, int64_t T, int64_t k, int64_t N, int64_t din,
                           int64_t dout, int64_t r) {
    const int64_t S = T * k;
    int64_t *start = calloc((size_t)N + 1, sizeof(int64_t));
    int64_t *slot_token = malloc((size_t)S * sizeof(int64_t)), *slot_expert = malloc((size_t)S * sizeof(int64_t));
    float *slot_coef = malloc((size_t)S * sizeof(float));
    if (!start || !slot_token || !slot_expert || !slot_coef) {
        free(start); free(slot_token); free(slot_expert); free(slot_coef);
        return 5;
    }
    for (int64_t s = 0; s < S; ++s)
        if (idx[s] >= 0) ++start[idx[s] + 1];
    for (int64_t e = 0; e < N; ++e) start[e + 1] += start[e];
    const int64_t used = start[N];
    for (int64_t s = 0; s < S; ++s) {  /* stable: tokens in order within an expert; -1 slots dropped */
        if (idx[s] < 0) continue;
        const int64_t e = idx[s], at = start[e]++;
        slot_token[at] = s / k; slot_expert[at] = e; slot_coef[at] = w[s] * scale[e];
    }
    segment_lora_f32(x, A, Bt, out, slot_token, slot_expert, slot_coef, used, din, dout, r);
    free(start); free(slot_token); free(slot_expert); free(slot_coef);
    return 0;
}

int routed_lora_f32(const float *x, int64_t T, int64_t din,
                    const float *xk, int64_t xk_stride, const float *ksum, int64_t N, float eps, float weight,
                    const float *bias, int64_t rows_per_bias, int64_t k,
                    const float *A, const float *Bt, const float *scale, int64_t dout, int64_t r, int64_t sorted,
                    float *out, int64_t *idx, float *w,
                    const int64_t *token_task, const uint8_t *mask, int64_t tasks, float *sums, float *counts,
                    float stats_repeat) {
    const int status = phatgoose_topk_f32(x, T, din, xk, xk_stride, ksum, N, eps, weight, bias, rows_per_bias, mask, k,
                                          idx, w);
    if (status) return status;
    if (sums && routing_stats_f32(idx, w, token_task, mask, T, k, N, tasks, sums, counts, stats_repeat)) return 4;
    if (sorted) return sorted_dispatch(x, A, Bt, scale, out, idx, w, T, k, N, din, dout, r);
    token_lora_f32(x, A, Bt, out, idx, w, scale, T, k, N, din, dout, r);  /* ids come from the router: valid */
    return 0;
}
