/*
 * request_body.c — buffering a whole request body for Swift (tp_exchange_read_body),
 * for integrations that build their request from the complete body (Lambda events).
 * The exchange stays DISPATCHED throughout; tp_conn_progress() calls
 * tp_ex_buffer_body() whenever input arrives.
 */
#include <string.h>
#include "internal.h"

void tp_exchange_read_body(tp_exchange *ex, uint64_t max_bytes) {
    tp_conn *c = ex->conn;
    if (c->closing || ex->state != TP_EX_DISPATCHED) return;
    ex->body_reading = 1;
    ex->body_max = max_bytes;
    ex->body_buf.len = 0;
    if (ex->h2s) {
        /* HTTP/2: DATA frames are taken from the stream by tp_h2_progress(). */
        tp_conn_mark_dirty(c);
        return;
    }
    /* The whole body within the header timeout: bytes that trickle in do not extend it. */
    c->deadline_ns = tp_loop_ns(c->worker) + (uint64_t)c->worker->opt.header_timeout_ms * 1000000ull;
    /* A declared length over the limit is answered 413 without asking for the body. */
    int too_long = ex->req_mode == TP_BODY_LENGTH && ex->req_remaining > max_bytes;
    if (!too_long && ex->expect_continue && !ex->req_done && c->rpos == c->rlen) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        uv_buf_t b = uv_buf_init((char *)cont, sizeof cont - 1);
        if (tp_conn_write(c, &b, 1) == 0) ex->sent_continue = 1;
    }
    tp_conn_mark_dirty(c);
}

static void report(tp_exchange *ex, uint16_t status) {
    tp_conn *c = ex->conn;
    tp_worker *w = c->worker;
    ex->body_reading = 0;
    if (!ex->h2s) c->deadline_ns = 0;
    if (status != 0) {
        /* The rest of the body is not read: the connection closes after the answer. */
        ex->close_after = 1;
        w->cb.on_request_body(w->ctx, ex, NULL, 0, status);
        return;
    }
    w->cb.on_request_body(w->ctx, ex, ex->body_buf.data, ex->body_buf.len, 0);
}

int tp_ex_buffer_body_h2(tp_exchange *ex) {
    if (ex->req_mode == TP_BODY_LENGTH && ex->req_remaining > ex->body_max) {
        report(ex, 413);
        return 1;
    }
    const uint8_t *data = NULL;
    size_t n;
    while ((n = tp_h2_body_peek(ex, &data)) > 0) {
        if (ex->stats.request_body_bytes + n > ex->body_max) { report(ex, 413); return 1; }
        if (tp_buf_append(&ex->body_buf, data, n) != 0) { tp_ex_abort(ex); return 1; }
        ex->stats.request_body_bytes += n;
        tp_h2_body_consume(ex, n);
    }
    if (!tp_h2_body_eof(ex)) return 0;
    ex->req_done = ex->req_forward_done = 1;
    report(ex, 0);
    return 1;
}

int tp_ex_buffer_body(tp_conn *c) {
    tp_exchange *ex = &c->ex;
    if (ex->req_mode == TP_BODY_LENGTH && ex->stats.request_body_bytes + ex->req_remaining > ex->body_max) {
        report(ex, 413);
        return 1;
    }
    while (!ex->req_done && c->rpos < c->rlen) {
        size_t avail = c->rlen - c->rpos;
        if (ex->req_mode == TP_BODY_LENGTH) {
            size_t n = avail < ex->req_remaining ? avail : (size_t)ex->req_remaining;
            if (tp_buf_append(&ex->body_buf, c->rbuf + c->rpos, n) != 0) { tp_conn_close(c); return 1; }
            c->rpos += n;
            ex->req_remaining -= n;
            ex->stats.request_body_bytes += n;
            if (ex->req_remaining == 0) ex->req_done = 1;
        } else {
            size_t used = 0, dlen = 0;
            const uint8_t *data = NULL;
            tp_chunk_result r = tp_chunked_decode(&ex->req_chunked, c->rbuf + c->rpos, avail, &used, &data, &dlen);
            c->rpos += used;
            if (r == TP_CHUNK_ERROR) { report(ex, 400); return 1; }
            if (dlen > 0) {
                if (ex->stats.request_body_bytes + dlen > ex->body_max) { report(ex, 413); return 1; }
                if (tp_buf_append(&ex->body_buf, data, dlen) != 0) { tp_conn_close(c); return 1; }
                ex->stats.request_body_bytes += dlen;
            }
            if (r == TP_CHUNK_DONE) ex->req_done = 1;
        }
    }
    if (ex->req_done) {
        ex->req_forward_done = 1;
        report(ex, 0);
        return 1;
    }
    if (c->peer_eof) { tp_conn_close(c); return 1; }
    return 0;
}
