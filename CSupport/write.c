/*
 * write.c — buffers and the one write path every stream uses.
 *
 * uv_try_write first: libuv 1.44's uv_write adds an epoll_ctl per call, and most
 * writes on loopback complete at once. Only what the kernel did not take is copied
 * and queued with uv_write.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

int tp_buf_reserve(tp_buf *b, size_t cap) {
    if (cap <= b->cap) return 0;
    size_t n = b->cap ? b->cap : 256;
    while (n < cap) n *= 2;
    uint8_t *p = realloc(b->data, n);
    if (!p) return -1;
    b->data = p;
    b->cap = n;
    return 0;
}

int tp_buf_append(tp_buf *b, const void *p, size_t n) {
    if (tp_buf_reserve(b, b->len + n) != 0) return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

void tp_buf_free(tp_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

typedef struct {
    uv_write_t req;
    uint32_t *pending;
    tp_write_done done;
    void *owner;
    uint8_t data[];
} tp_wreq;

static void on_write(uv_write_t *req, int status) {
    tp_wreq *w = (tp_wreq *)req;
    (*w->pending)--;
    tp_write_done done = w->done;
    void *owner = w->owner;
    free(w);
    if (done) done(owner, status);
}

int tp_stream_write(uv_stream_t *s, const uv_buf_t *bufs, unsigned n, uint32_t *pending,
                    tp_write_done done, void *owner) {
    size_t total = 0;
    for (unsigned i = 0; i < n; i++) total += bufs[i].len;
    if (total == 0) return 0;
    size_t written = 0;
    if (*pending == 0) {
        int r = uv_try_write(s, bufs, n);
        if (r >= 0) written = (size_t)r;
        else if (r != UV_EAGAIN) return r;
        if (written == total) return 0;
    }
    tp_wreq *w = malloc(sizeof(tp_wreq) + (total - written));
    if (!w) return UV_ENOMEM;
    size_t skip = written, off = 0;
    for (unsigned i = 0; i < n; i++) {
        size_t len = bufs[i].len;
        if (skip >= len) { skip -= len; continue; }
        memcpy(w->data + off, bufs[i].base + skip, len - skip);
        off += len - skip;
        skip = 0;
    }
    w->pending = pending;
    w->done = done;
    w->owner = owner;
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)off);
    int r = uv_write(&w->req, s, &b, 1, on_write);
    if (r != 0) { free(w); return r; }
    (*pending)++;
    return 0;
}
