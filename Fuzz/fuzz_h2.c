/*
 * fuzz_h2.c — libFuzzer target for the HTTP/2 server side the shim owns (h2.c and the
 * exchange plumbing in client.c): frames in, through nghttp2 and our callbacks, into
 * request heads handed to a stub gateway, responses back out through the data
 * provider. Run through Fuzz/run.sh.
 *
 * The connection is "detached" (no socket: output is dropped), so one input is one
 * connection, fed in pieces whose sizes come from the input itself. The stub gateway
 * answers some requests at once, keeps others pending (so resets and the connection's
 * end must end them), and checks what it is handed: every slice inside the stream's
 * copy, field counts within TP_MAX_HEADERS, a host present.
 */
#include "../CSupport/internal.h"

#include "fuzz_support.h"

#define MAX_PENDING 16
static tp_exchange *pending[MAX_PENDING];
static unsigned pending_count;
static unsigned open_exchanges;

static void answer(tp_exchange *ex, size_t body_len) {
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Thing: v\r\nConnection: x\r\n";
    static uint8_t body[70000];
    if (body_len > sizeof body) body_len = sizeof body;
    tp_exchange_respond(ex, (const uint8_t *)head, sizeof head - 1, body, body_len, 0);
}

static void on_request(void *ctx, tp_exchange *ex, const tp_request_head *h, const tp_conn_info *info) {
    (void)ctx;
    CHECK(info->http2);
    CHECK(h->header_count <= TP_MAX_HEADERS);
    CHECK(h->host.len > 0);
    CHECK(h->method.len > 0 && h->target.len > 0);
    CHECK(h->path.len <= h->target.len);
    for (uint32_t i = 0; i < h->header_count; i++) CHECK(h->headers[i].name.len > 0);
    open_exchanges++;
    /* An older pending exchange is answered now: late answers are exercised too. */
    if (pending_count && (h->target.len & 2)) answer(pending[--pending_count], h->path.len * 97);
    if ((h->target.len & 1) && pending_count < MAX_PENDING) pending[pending_count++] = ex;
    else answer(ex, h->target.len * 131);
}

static void on_exchange_end(void *ctx, tp_exchange *ex, const tp_exchange_stats *stats) {
    (void)ctx; (void)stats;
    CHECK(open_exchanges > 0);
    open_exchanges--;
    for (unsigned i = 0; i < pending_count; i++) {
        if (pending[i] == ex) { pending[i] = pending[--pending_count]; break; }
    }
}

static tp_worker *worker(void) {
    static tp_worker *w;
    if (w) return w;
    static tp_callbacks cb;
    cb.on_request = on_request;
    cb.on_exchange_end = on_exchange_end;
    tp_worker_options opt = fuzz_worker_options();
    opt.h2_max_concurrent_streams = 8;
    opt.h2_initial_window_size = 4096;
    w = tp_worker_create(0, NULL, &cb, &opt);
    CHECK(w != NULL);
    return w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tp_worker *w = worker();
    tp_conn *c = tp_conn_new_detached(w, 1);
    if (!c) return 0;
    /* Every input starts as an HTTP/2 connection: the preface, then the fuzzer's frames. */
    const uint8_t *in[2] = {(const uint8_t *)TP_H2_PREFACE, data};
    size_t len[2] = {TP_H2_PREFACE_LEN, size};
    size_t piece = size ? (size_t)data[0] % 61 + 1 : 1;
    for (int k = 0; k < 2 && !c->closing; k++) {
        size_t off = 0;
        while (off < len[k] && !c->closing) {
            size_t n = len[k] - off < piece ? len[k] - off : piece;
            tp_conn_make_room(c);
            if (c->rcap - c->rlen < n) n = c->rcap - c->rlen;
            if (n == 0) break;
            memcpy(c->rbuf + c->rlen, in[k] + off, n);
            c->rlen += n;
            off += n;
            tp_conn_progress(c);
            tp_worker_flush_dirty(w);
            tp_h2_flush_pending(w);  /* what the loop's prepare phase does */
        }
    }
    if (!c->closing) tp_conn_close(c);
    CHECK(open_exchanges == 0);
    CHECK(pending_count == 0);
    uv_run(&w->loop, UV_RUN_NOWAIT);  /* close callbacks free the connection */
    return 0;
}
