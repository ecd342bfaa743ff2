/* Routing statistics of one module for one batch (compiled with segment_lora.c).

   For every real token t (mask[t] != 0, or every token without a mask) and slot j:
       sums[task[t], expert_idx[t, j]] += repeat * weights[t, j];   counts[task[t]] += repeat
   (repeat > 1: each token stands for that many identical rows that were routed once)
   sums [tasks, N] and counts [tasks] are float32, updated in token order (as index_add_).
   Returns 1 (having added nothing) when an expert id is outside 0..N-1 or a task id outside
   0..tasks-1, else 0. */
#include <stdint.h>

int routing_stats_f32(const int64_t *expert_idx, const float *weights, const int64_t *task, const uint8_t *mask,
                      int64_t T, int64_t k, int64_t N, int64_t tasks, float *sums, float *counts, float repeat) {
    for (int64_t t = 0; t < T; ++t) {
        if (mask && !mask[t]) continue;
        if (task[t] < 0 || task[t] >= tasks) return 1;
        for (int64_t j = 0; j < k; ++j)
            if (expert_idx[t * k + j] < 0 || expert_idx[t * k + j] >= N) return 1;
    }
    for (int64_t t = 0; t < T; ++t) {
        if (mask && !mask[t]) continue;
        float *row = sums + task[t] * N;
        for (int64_t j = 0; j < k; ++j) row[expert_idx[t * k + j]] += repeat == 1.f ? weights[t * k + j] : repeat * weights[t * k + j];
        counts[task[t]] += repeat;
    }
    return 0;
}
