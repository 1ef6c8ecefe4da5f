/*
 * fuzz_upstream.c — libFuzzer target for what an upstream sends back: the fuzzer plays the
 * upstream. Up to six HTTP/1.1 clients (detached connections) each send one request,
 * which a stub gateway proxies to one endpoint — pipelined HTTP/1.1 (depth 8), one request
 * per connection, or HTTP/2 (h2c) — over detached upstream connections (no sockets; their
 * writes are dropped). The rest of the input is the upstream's bytes, fed in pieces to
 * the worker's upstream connections, with clients leaving and deadlines passing between
 * pieces. Run through Fuzz/run.sh.
 *
 * Input: [mode] [clients] [piece size] [upstream bytes...]; mode % 3: 0 pipelined,
 * 1 HTTP/2, 2 plain. Checked: every exchange ends once its client is gone, heads handed
 * to Swift are well-formed, and nothing leaks or crashes (ASan, UBSan, LeakSanitizer).
 */
#include "../CSupport/internal.h"

#include "fuzz_support.h"

#define MAX_CLIENTS 6
static unsigned open_exchanges;
static unsigned retries;
static tp_upstream_target target;

static void on_request(void *ctx, tp_exchange *ex, const tp_request_head *h, const tp_conn_info *info) {
    (void)ctx; (void)info;
    open_exchanges++;
    /* The head Swift would build: the request line and Host, then a field or two. */
    char head[256];
    int n = snprintf(head, sizeof head, "%.*s %.*s HTTP/1.1\r\nHost: upstream\r\nX-Id: %u\r\n",
                     (int)h->method.len, (const char *)h->method.ptr, (int)h->target.len,
                     (const char *)h->target.ptr, open_exchanges);
    tp_exchange_proxy(ex, &target, (const uint8_t *)head, (size_t)n);
}

static void on_upstream_head(void *ctx, tp_exchange *ex, const tp_response_head *h) {
    (void)ctx;
    CHECK(h->status >= 100 && h->status <= 999);
    CHECK(h->header_count <= TP_MAX_HEADERS);
    for (uint32_t i = 0; i < h->header_count; i++) CHECK(h->headers[i].name.len > 0);
    if (h->status == 418) {  /* Swift answering itself: the upstream response is dropped */
        static const char mine[] = "HTTP/1.1 200 OK\r\n";
        tp_exchange_respond(ex, (const uint8_t *)mine, sizeof mine - 1, (const uint8_t *)"x", 1, 0);
        return;
    }
    if (h->status == 299) return;  /* no head set: the shim answers 502 */
    if (h->status & 1) tp_exchange_capture_body(ex, 64);
    static const char client_head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n";
    tp_exchange_send_head(ex, (const uint8_t *)client_head, sizeof client_head - 1);
}

static void on_upstream_body(void *ctx, tp_exchange *ex, const uint8_t *data, size_t len) {
    (void)ctx; (void)ex;
    CHECK(data != NULL || len <= 1);
}

static void on_upstream_error(void *ctx, tp_exchange *ex, tp_upstream_error kind) {
    (void)ctx;
    CHECK(kind >= TP_UPSTREAM_CONNECT_FAILED && kind <= TP_CLIENT_BODY_INVALID);
    if (ex->retry_allowed && retries++ < 4) {
        tp_exchange_retry(ex, &target);
        return;
    }
    static const char head[] = "HTTP/1.1 502 Bad Gateway\r\n";
    tp_exchange_respond(ex, (const uint8_t *)head, sizeof head - 1, NULL, 0, 0);
}

static void on_exchange_end(void *ctx, tp_exchange *ex, const tp_exchange_stats *stats) {
    (void)ctx; (void)ex; (void)stats;
    CHECK(open_exchanges > 0);
    open_exchanges--;
}

static tp_worker *worker(void) {
    static tp_worker *w;
    if (w) return w;
    static tp_callbacks cb;
    cb.on_request = on_request;
    cb.on_upstream_head = on_upstream_head;
    cb.on_upstream_body = on_upstream_body;
    cb.on_upstream_error = on_upstream_error;
    cb.on_exchange_end = on_exchange_end;
    tp_worker_options opt = fuzz_worker_options();
    w = tp_worker_create(0, NULL, &cb, &opt);
    CHECK(w != NULL);
    w->detached_upstreams = 1;
    return w;
}

/* The n-th live upstream connection of the worker, or NULL. */
static tp_up *nth_up(tp_worker *w, unsigned n) {
    unsigned count = 0;
    for (tp_link *l = w->ups.next; l != &w->ups; l = l->next) count++;
    if (count == 0) return NULL;
    n %= count;
    for (tp_link *l = w->ups.next; l != &w->ups; l = l->next)
        if (n-- == 0) return TP_CONTAINER(l, tp_up, link);
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    tp_worker *w = worker();
    memset(&target, 0, sizeof target);
    tp_target_set_addr(&target, "127.0.0.1", 9);
    target.endpoint_id = 1;
    target.max_idle = 4;
    target.timeout_ms = 1000;
    unsigned mode = data[0] % 3;
    target.pipeline_depth = mode == 0 ? 8 : 0;
    target.http2 = mode == 1;
    retries = 0;
    unsigned nclients = 1 + data[1] % MAX_CLIENTS;
    size_t piece = 1 + data[2] % 97;
    data += 3;
    size -= 3;

    tp_conn *clients[MAX_CLIENTS];
    for (unsigned i = 0; i < nclients; i++) {
        clients[i] = tp_conn_new_detached(w, 0);
        CHECK(clients[i] != NULL);
        char req[64];
        int n = snprintf(req, sizeof req, "%s /r%u HTTP/1.1\r\nHost: a\r\n\r\n", (i == 3) ? "HEAD" : "GET", i);
        memcpy(clients[i]->rbuf, req, (size_t)n);
        clients[i]->rlen = (size_t)n;
        tp_conn_progress(clients[i]);
        tp_worker_flush_dirty(w);
    }
    tp_up_flush_pending(w);

    /* The upstream's bytes, a piece at a time, to the connection the piece's first byte picks. */
    size_t off = 0;
    unsigned step = 0;
    while (off < size) {
        size_t n = size - off < piece ? size - off : piece;
        tp_up *u = nth_up(w, data[off] >> 6);
        if (u) tp_up_feed(u, data + off, n);
        off += n;
        tp_worker_flush_dirty(w);
        tp_up_flush_pending(w);
        /* Now and then a client leaves mid-way. */
        if ((++step & 7) == 0 && (data[off - 1] & 0x30) == 0x30) {
            unsigned k = data[off - 1] % nclients;
            if (clients[k] && !clients[k]->closing) tp_conn_close(clients[k]);
        }
    }
    /* Deadlines pass (timeouts for whatever still waits), then the upstream closes. */
    for (tp_link *l = w->ups.next; l != &w->ups;) {
        tp_up *u = TP_CONTAINER(l, tp_up, link);
        l = l->next;
        tp_up_sweep(u, UINT64_MAX / 2);
    }
    tp_worker_flush_dirty(w);
    for (tp_up *u; (u = nth_up(w, 0)) != NULL;) {
        tp_up_feed(u, NULL, 0);
        if (u->state != TP_UP_CLOSING) tp_up_close(u);
        tp_worker_flush_dirty(w);
    }
    for (unsigned i = 0; i < nclients; i++)
        if (!clients[i]->closing) tp_conn_close(clients[i]);
    tp_worker_flush_dirty(w);
    CHECK(open_exchanges == 0);
    uv_run(&w->loop, UV_RUN_NOWAIT);  /* close callbacks free the connections */
    return 0;
}
