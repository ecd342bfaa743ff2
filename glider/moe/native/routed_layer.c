/* One routed MoE-LoRA module's inference in one call (compiled with segment_lora.c,
   route_topk.c and routing_stats.c):

     1. Phatgoose top-k routing of every real token (phatgoose_topk_f32; tokens with
        mask[t] == 0, i.e. padding, get no expert: -1, weight 0); on a non-finite logit
        nothing is written and its status is returned (the caller reruns the ATen path,
        which raises the router's error);
     2. the routing statistics of the batch, when sums is not NULL (routing_stats_f32; each token
        counted stats_repeat times when it stands for identical rows routed once);
     3. out[t] += sum_j w[t, j] scale[e] Bt[e]^T A[e] x[t]: in token order (token_lora_f32),
        or, with sorted != 0, slots counting-sorted by expert (sorted_lora_f32: each
        expert's weights read once, for large libraries).
   Returns 0, the router's status (1 NaN/+inf logit, 2 a token with every expert at -inf,
   3 sizes the router does not take), 4 for a task id out of range, 5 when out of memory. */
#include <stdint.h>

int phatgoose_topk_f32(const float *x, int64_t T, int64_t d, const float *xk, int64_t xk_stride,
                       const float *ksum, int64_t N, float eps, float weight, const float *bias,
                       int64_t rows_per_bias, const uint8_t *mask, int64_t k, int64_t *idx_out, float *w_out);
int routing_stats_f32(const int64_t *expert_idx, const float *weights, const int64_t *task, const uint8_t *mask,
                      int64_t T, int64_t k, int64_t N, int64_t tasks, float *sums, float *counts, float repeat);
int token_lora_f32(const float *x, const float *A, const float *Bt, float *out,
                   const int64_t *expert_idx, const float *weights, const float *scale, int64_t T, int64_t k,
                   int64_t N, int64_t din, int64_t dout, int64_t r);
int sorted_lora_f32(const float *x, const float *A, const float *Bt, float *out,
                    const int64_t *expert_idx, const float *weights, const float *scale, int64_t T, int64_t k,
                    int64_t N, int64_t din, int64_t dout, int64_t r);

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
    if (sorted) return sorted_lora_f32(x, A, Bt, out, idx, w, scale, T, k, N, din, dout, r) ? 5 : 0;
    token_lora_f32(x, A, Bt, out, idx, w, scale, T, k, N, din, dout, r);  /* ids come from the router: valid */
    return 0;
}
