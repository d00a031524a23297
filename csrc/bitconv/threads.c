/* A fork-join parallel-for on explicit POSIX threads (no OpenMP, so it
 * never competes with PyTorch's own OpenMP pool for its settings). */
#include <pthread.h>
#include <stdlib.h>

#include "bitconv.h"

typedef struct {
    bc_range_fn fn;
    void *ctx;
    int i0, i1;
} bc_task;

static void *bc_run_task(void *arg) {
    bc_task *t = (bc_task *)arg;
    if (t->i1 > t->i0) t->fn(t->ctx, t->i0, t->i1);
    return NULL;
}

int bc_parallel_for(int threads, int total, bc_range_fn fn, void *ctx) {
    if (threads > total) threads = total;
    if (threads <= 1) {
        if (total > 0) fn(ctx, 0, total);
        return 0;
    }
    bc_task *tasks = (bc_task *)malloc(sizeof(bc_task) * threads);
    pthread_t *ids = (pthread_t *)malloc(sizeof(pthread_t) * threads);
    int *started = (int *)calloc(threads, sizeof(int));
    if (!tasks || !ids || !started) {
        free(tasks);
        free(ids);
        free(started);
        fn(ctx, 0, total); /* no memory for threads: run here */
        return 0;
    }
    for (int t = 0; t < threads; ++t) {
        tasks[t].fn = fn;
        tasks[t].ctx = ctx;
        tasks[t].i0 = (int)((int64_t)total * t / threads);
        tasks[t].i1 = (int)((int64_t)total * (t + 1) / threads);
    }
    for (int t = 1; t < threads; ++t)
        started[t] = pthread_create(&ids[t], NULL, bc_run_task, &tasks[t]) == 0;
    bc_run_task(&tasks[0]);
    for (int t = 1; t < threads; ++t) {
        if (started[t])
            pthread_join(ids[t], NULL);
        else
            bc_run_task(&tasks[t]); /* could not start: run it here */
    }
    free(tasks);
    free(ids);
    free(started);
    return 0;
}
