/*
 * fuzz_support.h — what the fuzz targets share: an invariant check that aborts (so
 * libFuzzer keeps the input), and the small limits the worker-level targets run with
 * (small enough that every limit is reached by short inputs).
 */
#ifndef TURNPIKE_FUZZ_SUPPORT_H
#define TURNPIKE_FUZZ_SUPPORT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "turnpike_shim.h"

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s: invariant failed at line %d: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

static inline tp_worker_options fuzz_worker_options(void) {
    tp_worker_options opt;
    memset(&opt, 0, sizeof opt);
    opt.limits.max_head_bytes = 4096;
    opt.limits.max_request_line = 2048;
    opt.max_body_bytes = 1 << 20;
    opt.keepalive_timeout_ms = 1000;
    opt.header_timeout_ms = 1000;
    opt.upstream_idle_timeout_ms = 1000;
    return opt;
}

#endif
