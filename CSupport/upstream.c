/*
 * upstream.c — the client side of HTTP/1.1 toward upstream endpoints: per-worker
 * keep-alive pools keyed by endpoint id, request head + body written together,
 * response heads parsed and handed to Swift, bodies relayed with backpressure.
 *
 * Failures are never reported from inside a call Swift made: they are parked in
 * ex->pending_error and reported by tp_conn_progress() once Swift has returned.
 *
 * Pipelining (opt-in per target group): safe bodiless requests for the same endpoint
 * share a connection, up to pipeline_depth in flight. Their heads are gathered in
 * u->out and written together once per loop iteration (tp_up_flush_pending, from the
 * loop's prepare phase), so N client requests cost the upstream side one write and,
 * when the upstream answers them together, one read: the kernel's send path, which is
 * where a proxy's time goes, runs once for the batch instead of once per request.
 * Responses come in request order; requests still waiting when a connection closes are
 * sent again on another one (they are GET/HEAD/OPTIONS without a body: RFC 9110 §9.2.2).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include "internal.h"

#define TP_MAX_RESPONSE_HEAD (64u * 1024u)

static void up_start_reading(tp_up *u);

static void up_closed(uv_handle_t *h) {
    tp_up *u = (tp_up *)h;
    if (u->ssl) SSL_free(u->ssl);
    if (u->tls) tp_tls_client_release(u->tls);
    tp_up_h2_free(u);
    tp_buf_free(&u->out);
    free(u->rbuf);
    free(u);
}

/* ---- the pipeline: requests written, waiting for their responses in order ---- */

static unsigned in_flight(const tp_up *u) { return (u->ex ? 1u : 0u) + u->qcount; }

static tp_exchange *queue_pop(tp_up *u) {
    tp_exchange *ex = u->queue[u->qhead];
    u->queue[u->qhead] = NULL;
    u->qhead = (uint8_t)((u->qhead + 1) % TP_PIPELINE_MAX);
    u->qcount--;
    return ex;
}

static void pipe_leave(tp_up *u) {
    if (!u->pipelined) return;
    u->pipelined = 0;
    tp_pool *p = tp_worker_pool(u->worker, u->endpoint_id);
    tp_list_remove(&u->pipe_link);
    if (p) p->pipe_count--;
}

static void pipe_join(tp_up *u) {
    if (u->pipelined) return;
    tp_pool *p = tp_worker_pool(u->worker, u->endpoint_id);
    if (!p) return;
    u->pipelined = 1;
    tp_list_append(&p->pipes, &u->pipe_link);
    p->pipe_count++;
}

/* GET, HEAD and OPTIONS without a body: safe to send again (RFC 9110 §9.2.1) when a
 * connection closes before answering. The method is the one in the head sent upstream. */
int tp_ex_resendable(const tp_exchange *ex) {
    if (ex->req_mode != TP_BODY_NONE) return 0;
    const char *h = (const char *)ex->up_head.data;
    size_t n = ex->up_head.len;
    return (n > 4 && memcmp(h, "GET ", 4) == 0) || (n > 5 && memcmp(h, "HEAD ", 5) == 0) ||
           (n > 8 && memcmp(h, "OPTIONS ", 8) == 0);
}

/* Pipelined HTTP/1.1 toward a group that allows it, over plain HTTP. */
static int pipelinable(const tp_exchange *ex) {
    return ex->target.pipeline_depth >= 2 && !ex->target.tls && tp_ex_resendable(ex);
}

void tp_up_schedule_flush(tp_up *u) {
    if (u->flush_link.next == NULL && (u->out.len || u->h2)) tp_list_append(&u->worker->up_flush, &u->flush_link);
}

/* The request's head (a bodiless request: the head is all of it) joins this iteration's
 * write. A head that cannot be buffered fails the request, not the connection. */
static int pipe_write_head(tp_up *u, tp_exchange *ex) {
    if (tp_buf_append(&u->out, ex->up_head.data, ex->up_head.len) != 0 ||
        tp_buf_append(&u->out, "\r\n", 2) != 0) return -1;
    if (u->state == TP_UP_ACTIVE) tp_up_schedule_flush(u);
    return 0;
}

/* A request whose connection closed before its response began: sent again elsewhere,
 * a bounded number of times (a connection that closes under every request is broken). */
static void redispatch(tp_exchange *ex) {
    ex->up = NULL;
    if (ex->conn->closing) return;
    if (++ex->redispatches > TP_MAX_REDISPATCH) {
        ex->pending_error = TP_UPSTREAM_RESET;
    } else {
        tp_up_begin(ex);
    }
    tp_conn_mark_dirty(ex->conn);
}

/* Every waiting request leaves the connection: with `kind`, or (0) to be sent again. */
static void release_queue(tp_up *u, tp_upstream_error kind) {
    pipe_leave(u);
    while (u->qcount) {
        tp_exchange *ex = queue_pop(u);
        if (!ex) continue;
        if (kind) {
            ex->up = NULL;
            ex->pending_error = (uint8_t)kind;
            tp_conn_mark_dirty(ex->conn);
        } else {
            redispatch(ex);
        }
    }
}

/* Resets the response parser for the request now at the front. */
static void begin_response(tp_up *u, tp_exchange *ex) {
    u->ex = ex;
    u->head_done = 0;
    u->body_done = 0;
    u->bytes_in = 0;
    u->mode = TP_BODY_NONE;
    u->remaining = 0;
    u->timeout_ns = tp_ex_upstream_timeout_ns(ex);
    if (u->state == TP_UP_ACTIVE) u->deadline_ns = tp_loop_ns(u->worker) + u->timeout_ns;  /* else: connect timeout */
}

/* The front response is complete: the next waiting request's is read next. Returns 0
 * when the next slot belongs to a client that left (the caller closes the connection). */
static int advance(tp_up *u) {
    tp_exchange *next = queue_pop(u);
    if (!next) return 0;
    begin_response(u, next);
    return 1;
}

/* Sends the TLS engine's output as it is. */
static int up_flush_tls(tp_up *u) {
    return tp_tls_send_output(u->wbio, (uv_stream_t *)&u->tcp, &u->pending_writes, NULL, u);
}

void tp_up_close(tp_up *u) {
    if (u->state == TP_UP_CLOSING) return;
    if (u->state == TP_UP_IDLE) {
        tp_pool *p = tp_worker_pool(u->worker, u->endpoint_id);
        tp_list_remove(&u->idle_link);
        if (p) p->idle_count--;
    }
    u->state = TP_UP_CLOSING;
    tp_list_remove(&u->link);
    tp_list_remove(&u->flush_link);
    if (u->ex) {
        u->ex->up = NULL;
        u->ex = NULL;
    }
    release_queue(u, 0);
    tp_up_h2_release(u, 0);
    uv_close((uv_handle_t *)&u->tcp, up_closed);
}

/* Closes the upstream connection and parks the failure for the exchange. Requests
 * waiting behind it share a failure to connect (none of them reached the upstream);
 * after any other failure they are sent again on another connection. */
static void up_fail(tp_up *u, tp_upstream_error kind) {
    tp_exchange *ex = u->ex;
    if (kind == TP_UPSTREAM_CONNECT_FAILED || kind == TP_UPSTREAM_CONNECT_TIMEOUT) {
        release_queue(u, kind);
        tp_up_h2_release(u, kind);
    }
    tp_up_close(u);
    if (!ex) return;
    ex->pending_error = (uint8_t)kind;
    tp_conn_mark_dirty(ex->conn);
}

void tp_up_detach(tp_exchange *ex, int reusable) {
    if (ex->up_stream) { tp_up_h2_detach(ex); return; }
    tp_up *u = ex->up;
    if (!u) return;
    tp_worker *w = u->worker;
    ex->up = NULL;
    if (u->ex != ex) {
        /* Waiting in the pipeline: its response is already asked for, so it keeps its place
         * as an empty slot. */
        for (unsigned i = 0, k = u->qhead; i < u->qcount; i++, k = (k + 1) % TP_PIPELINE_MAX)
            if (u->queue[k] == ex) u->queue[k] = NULL;
        return;
    }
    u->ex = NULL;
    if (u->qcount) {
        if (reusable && u->state == TP_UP_ACTIVE && advance(u)) {
            /* Reading may have paused for the slow client of the response just finished. */
            if (u->paused) {
                u->paused = 0;
                up_start_reading(u);
            }
            return;
        }
        tp_up_close(u);  /* the requests behind it go elsewhere */
        return;
    }
    pipe_leave(u);
    if (reusable && !w->draining && u->state == TP_UP_ACTIVE) {
        tp_pool *p = tp_worker_pool(w, u->endpoint_id);
        if (p && p->idle_count < ex->target.max_idle) {
            u->state = TP_UP_IDLE;
            tp_list_insert(&p->idle, &u->idle_link);
            p->idle_count++;
            u->deadline_ns = tp_loop_ns(w) + (uint64_t)w->opt.upstream_idle_timeout_ms * 1000000ull;
            u->rpos = u->rlen = 0;
            return;
        }
    }
    tp_up_close(u);
}

static void up_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)suggested;
    tp_up *u = (tp_up *)h;
    if (u->ssl) {
        buf->base = (char *)u->worker->tls_in;
        buf->len = sizeof u->worker->tls_in;
        return;
    }
    tp_compact(u->rbuf, &u->rpos, &u->rlen, TP_UPSTREAM_BUF, 1);
    buf->base = (char *)u->rbuf + u->rlen;
    buf->len = TP_UPSTREAM_BUF - u->rlen;
}

static void up_write_done(void *owner, int status) {
    tp_up *u = owner;
    if (u->state == TP_UP_CLOSING) return;
    if (status < 0) {
        up_fail(u, TP_UPSTREAM_RESET);
    } else if (u->h2) {
        if (tp_up_h2_wants_write(u)) tp_up_schedule_flush(u);  /* frames held back at the high-water mark */
    } else if (u->ex) {
        tp_conn_mark_dirty(u->ex->conn);  /* more body may be pumped now */
    }
    tp_worker_flush_dirty(u->worker);
}

/* Appends "<framing>\r\n" for the request body to the exchange's upstream head. */
static size_t request_framing(tp_exchange *ex, char *out) {
    char *p = out;
    if (ex->req_mode == TP_BODY_LENGTH) {
        p = TP_PUT_LIT(p, "content-length: ");
        p = tp_put_u64(p, ex->req_remaining + ex->stats.request_body_bytes);
        p = TP_PUT_LIT(p, "\r\n");
    } else if (ex->req_mode == TP_BODY_CHUNKED) {
        p = TP_PUT_LIT(p, "transfer-encoding: chunked\r\n");
    }
    p = TP_PUT_LIT(p, "\r\n");
    return (size_t)(p - out);
}

/* Writes the pending request head (if any) and as much request body as is buffered,
 * in one write. Runs only from event context (tp_conn_progress, callbacks). */
void tp_up_pump_body(tp_exchange *ex) {
    if (ex->up_stream) { tp_up_h2_pump(ex); return; }
    tp_up *u = ex->up;
    tp_conn *c = ex->conn;
    tp_worker *w = c->worker;
    if (!u || u->state != TP_UP_ACTIVE) return;
    uv_buf_t bufs[40];
    unsigned n = 0;
    char framing[64];
    char sizes[12][24];
    unsigned nsizes = 0;
    static const char crlf[] = "\r\n";
    static const char last_chunk[] = "0\r\n\r\n";
    if (u->head_pending) {
        bufs[n++] = uv_buf_init((char *)ex->up_head.data, (unsigned)ex->up_head.len);
        bufs[n++] = uv_buf_init(framing, (unsigned)request_framing(ex, framing));
        u->head_pending = 0;
    }
    int failed = 0;
    if (ex->h2s && u->tcp.write_queue_size <= TP_HIGH_WATER) {
        /* HTTP/2: DATA frames' bytes, re-framed by length or as chunks. */
        while (!ex->req_done && n < 36 && nsizes < 12) {
            const uint8_t *data = NULL;
            size_t avail = tp_h2_body_peek(ex, &data);
            if (avail == 0) {
                if (!tp_h2_body_eof(ex)) break;
                if (ex->req_mode == TP_BODY_CHUNKED) bufs[n++] = uv_buf_init((char *)last_chunk, 5);
                else if (ex->req_remaining) { failed = TP_CLIENT_BODY_INVALID; break; }
                ex->req_done = ex->req_forward_done = 1;
                break;
            }
            if (ex->req_mode == TP_BODY_LENGTH) {
                if (avail > ex->req_remaining) { failed = TP_CLIENT_BODY_INVALID; break; }
                ex->req_remaining -= avail;
                bufs[n++] = uv_buf_init((char *)data, (unsigned)avail);
                if (ex->req_remaining == 0 && tp_h2_body_eof(ex)) ex->req_done = ex->req_forward_done = 1;
            } else {
                int len = (int)(TP_PUT_LIT(tp_put_hex(sizes[nsizes], avail), "\r\n") - sizes[nsizes]);
                bufs[n++] = uv_buf_init(sizes[nsizes++], (unsigned)len);
                bufs[n++] = uv_buf_init((char *)data, (unsigned)avail);
                bufs[n++] = uv_buf_init((char *)crlf, 2);
            }
            tp_h2_body_consume(ex, avail);
            ex->stats.request_body_bytes += avail;
            if (ex->stats.request_body_bytes > w->opt.max_body_bytes) {
                failed = TP_CLIENT_BODY_TOO_LARGE;
                break;
            }
        }
    } else if (u->tcp.write_queue_size <= TP_HIGH_WATER) {
        while (!ex->req_done && c->rpos < c->rlen && n < 36 && nsizes < 12) {
            size_t avail = c->rlen - c->rpos;
            if (ex->req_mode == TP_BODY_LENGTH) {
                size_t take = avail < ex->req_remaining ? avail : (size_t)ex->req_remaining;
                bufs[n++] = uv_buf_init((char *)c->rbuf + c->rpos, (unsigned)take);
                c->rpos += take;
                ex->req_remaining -= take;
                ex->stats.request_body_bytes += take;
                if (ex->req_remaining == 0) ex->req_done = ex->req_forward_done = 1;
            } else {
                size_t used = 0, dlen = 0;
                const uint8_t *data = NULL;
                tp_chunk_result r = tp_chunked_decode(&ex->req_chunked, c->rbuf + c->rpos, avail,
                                                      &used, &data, &dlen);
                c->rpos += used;
                if (r == TP_CHUNK_DATA) {
                    int len = (int)(TP_PUT_LIT(tp_put_hex(sizes[nsizes], dlen), "\r\n") - sizes[nsizes]);
                    bufs[n++] = uv_buf_init(sizes[nsizes++], (unsigned)len);
                    bufs[n++] = uv_buf_init((char *)data, (unsigned)dlen);
                    bufs[n++] = uv_buf_init((char *)crlf, 2);
                    ex->stats.request_body_bytes += dlen;
                } else if (r == TP_CHUNK_DONE) {
                    bufs[n++] = uv_buf_init((char *)last_chunk, 5);
                    ex->req_done = ex->req_forward_done = 1;
                } else if (r == TP_CHUNK_ERROR) {
                    failed = TP_CLIENT_BODY_INVALID;
                    break;
                } else {
                    break;
                }
            }
            if (ex->stats.request_body_bytes > w->opt.max_body_bytes) {
                failed = TP_CLIENT_BODY_TOO_LARGE;
                break;
            }
        }
    }
    if (failed) {
        ex->close_after = 1;
        up_fail(u, (tp_upstream_error)failed);
        return;
    }
    if (n == 0) return;
    u->deadline_ns = tp_loop_ns(u->worker) + u->timeout_ns;
    int r;
    if (u->ssl) {
        /* One TLS record for the head and the body that is here (up to a record's size). */
        tp_buf *g = &w->up_scratch;
        g->len = 0;
        r = 0;
        for (unsigned i = 0; i < n && r == 0; i++) {
            if (tp_buf_append(g, bufs[i].base, bufs[i].len) != 0) r = -1;
        }
        if (r == 0 && g->len && SSL_write(u->ssl, g->data, (int)g->len) <= 0) r = -1;
        if (r == 0) r = up_flush_tls(u);
    } else {
        r = u->detached ? 0 : tp_stream_write((uv_stream_t *)&u->tcp, bufs, n, &u->pending_writes, up_write_done, u);
    }
    if (r != 0) up_fail(u, TP_UPSTREAM_RESET);
}

static int up_relay_once(tp_up *u);

/* Hands a relayed body piece to Swift for an exchange that captures its body. */
void tp_up_capture(tp_exchange *ex, const uint8_t *data, size_t len) {
    if (!ex->capture_max || ex->capture_done) return;
    tp_worker *w = ex->conn->worker;
    if (!w->cb.on_upstream_body) return;
    if (data == NULL) {
        ex->capture_done = 1;
        w->cb.on_upstream_body(w->ctx, ex, NULL, 0);
        return;
    }
    if (ex->captured + len > ex->capture_max) {
        ex->capture_done = 1;
        w->cb.on_upstream_body(w->ctx, ex, NULL, 1);
        return;
    }
    ex->captured += len;
    w->cb.on_upstream_body(w->ctx, ex, data, len);
}

/* Relays every buffered response byte to the client, in as few writes as possible. */
static void up_relay(tp_up *u) {
    while (up_relay_once(u)) {}
}

/* One gathered write; returns 1 when more buffered bytes are waiting. */
static int up_relay_once(tp_up *u) {
    tp_exchange *ex = u->ex;
    tp_conn *c = ex->conn;
    uv_buf_t bufs[40];
    unsigned n = 0;
    char sizes[12][24];
    unsigned nsizes = 0;
    static const char crlf[] = "\r\n";
    static const char last_chunk[] = "0\r\n\r\n";
    if (!ex->head_written) {
        if (!ex->h2s) bufs[n++] = uv_buf_init((char *)ex->client_head.data, (unsigned)ex->client_head.len);
        ex->head_written = 1;
    }
    int bad = 0;
    while (!u->body_done && n < 36 && nsizes < 12) {
        size_t avail = u->rlen - u->rpos;
        if (u->mode == TP_BODY_NONE) { u->body_done = 1; break; }
        if (avail == 0) break;
        if (u->mode == TP_BODY_LENGTH) {
            size_t take = avail < u->remaining ? avail : (size_t)u->remaining;
            bufs[n++] = uv_buf_init((char *)u->rbuf + u->rpos, (unsigned)take);
            tp_up_capture(ex, u->rbuf + u->rpos, take);
            u->rpos += take;
            u->remaining -= take;
            ex->stats.response_body_bytes += take;
            if (u->remaining == 0) u->body_done = 1;
        } else if (u->mode == TP_BODY_UNTIL_CLOSE) {
            bufs[n++] = uv_buf_init((char *)u->rbuf + u->rpos, (unsigned)avail);
            tp_up_capture(ex, u->rbuf + u->rpos, avail);
            if (ex->resp_chunked_out) {
                /* the size line must precede the data: insert before it */
                int len = (int)(TP_PUT_LIT(tp_put_hex(sizes[nsizes], avail), "\r\n") - sizes[nsizes]);
                bufs[n] = bufs[n - 1];
                bufs[n - 1] = uv_buf_init(sizes[nsizes++], (unsigned)len);
                n++;
                bufs[n++] = uv_buf_init((char *)crlf, 2);
            }
            u->rpos += avail;
            ex->stats.response_body_bytes += avail;
        } else {
            size_t used = 0, dlen = 0;
            const uint8_t *data = NULL;
            tp_chunk_result r = tp_chunked_decode(&u->chunked, u->rbuf + u->rpos, avail, &used,
                                                  &data, &dlen);
            u->rpos += used;
            if (r == TP_CHUNK_DATA) {
                if (ex->resp_chunked_out) {
                    int len = (int)(TP_PUT_LIT(tp_put_hex(sizes[nsizes], dlen), "\r\n") - sizes[nsizes]);
                    bufs[n++] = uv_buf_init(sizes[nsizes++], (unsigned)len);
                }
                bufs[n++] = uv_buf_init((char *)data, (unsigned)dlen);
                if (ex->resp_chunked_out) bufs[n++] = uv_buf_init((char *)crlf, 2);
                tp_up_capture(ex, data, dlen);
                ex->stats.response_body_bytes += dlen;
            } else if (r == TP_CHUNK_DONE) {
                u->body_done = 1;
            } else if (r == TP_CHUNK_ERROR) {
                bad = 1;
                break;
            } else {
                break;
            }
        }
    }
    if (u->body_done && ex->resp_chunked_out) bufs[n++] = uv_buf_init((char *)last_chunk, 5);
    if (u->body_done) tp_up_capture(ex, NULL, 0);
    if (n && tp_ex_write(ex, bufs, n) != 0) { tp_ex_abort(ex); return 0; }
    if (c->closing || ex->up != u) return 0;  /* the client is gone */
    if (bad) {
        tp_ex_abort(ex);
        return 0;
    }
    if (u->body_done) {
        u->responses++;
        /* Bytes after the response are the next one's when a request waits for it. */
        int reusable = u->keep_alive && ex->req_forward_done && (u->qcount || u->rpos == u->rlen) &&
                       u->mode != TP_BODY_UNTIL_CLOSE;
        tp_up_detach(ex, reusable);
        tp_ex_finish_response(ex);
        return 0;
    }
    size_t queued = tp_ex_client_queue(ex);
    if (queued > TP_HIGH_WATER && u->reading) {
        if (u->qcount == 0) {
            /* A slow client slows its own upstream read. */
            if (!u->detached) uv_read_stop((uv_stream_t *)&u->tcp);
            u->reading = 0;
            u->paused = 1;
        } else if (queued > TP_PIPELINE_CLIENT_MAX) {
            /* Pausing would hold up the requests queued behind this one: reading goes on while
             * this client's queue stays bounded; past the bound its response is cut, and the
             * requests behind are sent again on another connection. */
            tp_up_close(u);
            tp_ex_abort(ex);
            return 0;
        }
    }
    return u->rpos < u->rlen && (n >= 36 || nsizes >= 12);
}

/* Framing of the response toward the client, once Swift set its head: HTTP/2 submits
 * the head (the length announced when known); HTTP/1.1 appends Content-Length, chunked
 * (re-encoded) or a close-delimited body to the head, which goes out with the first body
 * bytes. `mode`/`remaining` describe the upstream's body; `head_length` is its
 * Content-Length field (-1 when absent). Returns -1 after ending the exchange's client side
 * (answering 502 when Swift set no head from on_upstream_head). */
int tp_ex_start_client_body(tp_exchange *ex, tp_body_mode mode, uint64_t remaining, int64_t head_length,
                            uint16_t status) {
    tp_worker *w = ex->conn->worker;
    if (!ex->head_sent) {
        /* Swift set no head for the client: the upstream's response is not relayed. */
        static const char head[] = "HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\n";
        static const char body[] = "{\"message\":\"Internal Server Error\"}";
        tp_exchange_respond(ex, (const uint8_t *)head, sizeof head - 1, (const uint8_t *)body,
                            sizeof body - 1, TP_RESPOND_CLOSE);
        return -1;
    }
    if (ex->h2s) {
        int64_t length = mode == TP_BODY_LENGTH ? (int64_t)remaining
                       : mode == TP_BODY_NONE ? (head_length >= 0 ? head_length : 0) : -1;
        if (tp_h2_submit_head(ex, length, mode == TP_BODY_NONE) != 0) { tp_ex_abort(ex); return -1; }
        ex->head_written = 1;
        return 0;
    }
    char framing[96];
    char *f = framing;
    if (mode == TP_BODY_LENGTH) {
        f = TP_PUT_LIT(f, "content-length: ");
        f = TP_PUT_LIT(tp_put_u64(f, remaining), "\r\n");
    } else if (mode == TP_BODY_NONE) {
        if (head_length >= 0 && status != 204) {
            f = TP_PUT_LIT(f, "content-length: ");
            f = TP_PUT_LIT(tp_put_u64(f, (uint64_t)head_length), "\r\n");
        } else if (status != 204 && status != 304) {
            f = TP_PUT_LIT(f, "content-length: 0\r\n");
        }
    } else if (ex->client_minor >= 1) {
        f = TP_PUT_LIT(f, "transfer-encoding: chunked\r\n");
        ex->resp_chunked_out = 1;
    } else {
        ex->close_after = 1;  /* an HTTP/1.0 client: the close delimits the body */
    }
    int close_after = ex->close_after || w->draining;
    if (close_after) f = TP_PUT_LIT(f, "connection: close\r\n");
    else if (ex->client_minor == 0) f = TP_PUT_LIT(f, "connection: keep-alive\r\n");
    f = TP_PUT_LIT(f, "\r\n");
    if (tp_buf_append(&ex->client_head, framing, (size_t)(f - framing)) != 0) {
        tp_conn_close(ex->conn);
        return -1;
    }
    return 0;
}

/* Parses the response head once it is complete, asks Swift for the client's head. */
static void up_process_one(tp_up *u) {
    tp_exchange *ex = u->ex;
    tp_worker *w = u->worker;
    if (!u->head_done) {
        tp_response_head *h = &w->resp_head;
        tp_parse_limits limits = {TP_MAX_RESPONSE_HEAD, TP_MAX_RESPONSE_HEAD};
        for (;;) {
            size_t hl = 0;
            tp_parse_result r = tp_http1_parse_response(u->rbuf + u->rpos, u->rlen - u->rpos,
                                                        &limits, h, &hl);
            if (r == TP_PARSE_NEED_MORE) {
                if (u->rlen - u->rpos >= TP_UPSTREAM_BUF) up_fail(u, TP_UPSTREAM_BAD_RESPONSE);
                return;
            }
            if (r == TP_PARSE_ERROR) { up_fail(u, TP_UPSTREAM_BAD_RESPONSE); return; }
            u->rpos += hl;
            if (h->status >= 100 && h->status < 200) {
                if (h->status == 101) { up_fail(u, TP_UPSTREAM_BAD_RESPONSE); return; }
                continue;  /* interim responses are not relayed */
            }
            break;
        }
        u->head_done = 1;
        u->keep_alive = h->keep_alive;
        /* The upstream closes after this response: the requests behind it go elsewhere now. */
        if (!u->keep_alive && (u->qcount || u->pipelined)) release_queue(u, 0);
        ex->stats.upstream_status = h->status;
        ex->stats.upstream_head_ns = uv_hrtime();
        int64_t head_length = h->content_length;
        if (ex->is_head || h->status == 204 || h->status == 304) {
            u->mode = TP_BODY_NONE;
        } else if (h->chunked) {
            u->mode = TP_BODY_CHUNKED;
            tp_chunked_init(&u->chunked);
        } else if (h->content_length > 0) {
            u->mode = TP_BODY_LENGTH;
            u->remaining = (uint64_t)h->content_length;
        } else if (h->content_length == 0) {
            u->mode = TP_BODY_NONE;
        } else {
            u->mode = TP_BODY_UNTIL_CLOSE;
            u->keep_alive = 0;
        }
        uint16_t status = h->status;
        w->cb.on_upstream_head(w->ctx, ex, h);
        if (ex->up != u) return;  /* Swift answered with a response of its own */
        if (tp_ex_start_client_body(ex, u->mode, u->remaining, head_length, status) != 0) return;
    }
    up_relay(u);
}

/* Works through every complete response buffered: pipelined responses often arrive
 * several to a read. */
static void up_process(tp_up *u) {
    for (;;) {
        tp_exchange *ex = u->ex;
        up_process_one(u);
        if (u->state != TP_UP_ACTIVE || !u->ex || u->ex == ex || u->rpos >= u->rlen) return;
    }
}

static void up_handshake(tp_up *u);
static ssize_t up_decrypt(tp_up *u);

static void up_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    tp_up *u = (tp_up *)s;
    tp_worker *w = u->worker;
    if (u->state == TP_UP_CLOSING) return;
    if (nread > 0 && u->ssl) {
        BIO_write(u->rbio, buf->base, (int)nread);
        if (u->state == TP_UP_HANDSHAKE) {
            up_handshake(u);
            tp_worker_flush_dirty(w);
            return;
        }
        nread = up_decrypt(u);  /* plaintext now in rbuf; 0: only TLS records (e.g. tickets) */
        if (nread == 0) { tp_worker_flush_dirty(w); return; }
        if (nread > 0) u->rlen -= (size_t)nread;  /* counted again below */
    }
    if (u->h2) {
        /* HTTP/2: nghttp2 takes the bytes as they come; rbuf holds nothing between reads. */
        if (nread > 0) {
            u->bytes_in += (uint64_t)nread;
            if (tp_up_h2_recv(u, u->rbuf + u->rlen, (size_t)nread) != 0) {
                /* Frames nghttp2 refused: nothing the upstream sent on it is trusted, and
                 * its requests are not sent again (a broken upstream would get them twice). */
                tp_up_h2_release(u, TP_UPSTREAM_BAD_RESPONSE);
                tp_up_close(u);
            }
        } else if (nread < 0) {
            tp_up_close(u);
        }
        tp_worker_flush_dirty(w);
        return;
    }
    if (nread > 0) {
        u->rlen += (size_t)nread;
        u->bytes_in += (uint64_t)nread;
        if (u->state != TP_UP_ACTIVE || !u->ex) {
            tp_up_close(u);  /* bytes nobody asked for: the connection is unusable */
        } else {
            u->deadline_ns = tp_loop_ns(u->worker) + u->timeout_ns;
            up_process(u);
        }
    } else if (nread == UV_ENOBUFS) {
        /* A response head that does not fit the buffer. */
        if (u->ex && !u->head_done) up_fail(u, TP_UPSTREAM_BAD_RESPONSE);
        else tp_up_close(u);
    } else if (nread < 0) {
        tp_exchange *ex = u->ex;
        if (u->state != TP_UP_ACTIVE || !ex) {
            tp_up_close(u);
        } else if (u->head_done && u->mode == TP_BODY_UNTIL_CLOSE) {
            u->body_done = 1;
            up_relay(u);
        } else if (!u->head_done && u->bytes_in == 0 && u->responses > 0 && tp_ex_resendable(ex)) {
            /* A kept-alive connection that the upstream closed as this request went out (its
             * idle timeout raced ours): nothing was answered, so it goes again elsewhere. */
            tp_up_close(u);
            redispatch(ex);
        } else if (!u->head_done) {
            up_fail(u, u->bytes_in ? TP_UPSTREAM_BAD_RESPONSE : TP_UPSTREAM_RESET);
        } else {
            /* Truncated body after the head went out: the client must see a cut. */
            tp_up_close(u);
            tp_ex_abort(ex);
        }
    }
    tp_worker_flush_dirty(w);
}

/* Plaintext from the TLS engine into rbuf; returns bytes added, 0 for none, or UV_EOF
 * (close_notify or a TLS failure) so the caller handles it like a closed socket. */
static ssize_t up_decrypt(tp_up *u) {
    size_t before = u->rlen;
    for (;;) {
        if (u->rpos > 0 && u->rpos == u->rlen) u->rpos = u->rlen = before = 0;
        size_t space = TP_UPSTREAM_BUF - u->rlen;
        if (space == 0) break;
        int n = SSL_read(u->ssl, u->rbuf + u->rlen, (int)space);
        if (n > 0) { u->rlen += (size_t)n; continue; }
        int e = SSL_get_error(u->ssl, n);
        if (e == SSL_ERROR_WANT_READ) break;
        ERR_clear_error();
        if (u->rlen > before) break;  /* hand out what came first; the EOF follows */
        return UV_EOF;
    }
    return (ssize_t)(u->rlen - before);
}

/* One step of the client handshake; on completion the request goes out. */
/* An HTTP/2 connection is up (TCP, and TLS when used): the preface, SETTINGS and the
 * streams submitted meanwhile go out. */
static void up_h2_ready(tp_up *u) {
    u->state = TP_UP_ACTIVE;
    u->deadline_ns = 0;  /* streams keep their own deadlines */
    up_start_reading(u);
    tp_up_schedule_flush(u);
}

static void up_handshake(tp_up *u) {
    int r = SSL_do_handshake(u->ssl);
    if (up_flush_tls(u) != 0) { up_fail(u, TP_UPSTREAM_CONNECT_FAILED); return; }
    if (r == 1 && u->h2) {
        const unsigned char *proto = NULL;
        unsigned len = 0;
        SSL_get0_alpn_selected(u->ssl, &proto, &len);
        if (len != 2 || memcmp(proto, "h2", 2) != 0) {
            /* The upstream does not speak HTTP/2 over TLS: nothing was sent. */
            up_fail(u, TP_UPSTREAM_CONNECT_FAILED);
            return;
        }
        up_h2_ready(u);
        return;
    }
    if (r == 1) {
        u->state = TP_UP_ACTIVE;
        u->deadline_ns = tp_loop_ns(u->worker) + u->timeout_ns;
        if (u->ex) tp_conn_mark_dirty(u->ex->conn);
        else tp_up_close(u);
        return;
    }
    int e = SSL_get_error(u->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
    ERR_clear_error();
    /* Certificate refused or handshake failed: no HTTP byte was sent. */
    up_fail(u, TP_UPSTREAM_CONNECT_FAILED);
}

static void up_start_reading(tp_up *u) {
    if (u->reading || u->detached) return;
    if (uv_read_start((uv_stream_t *)&u->tcp, up_alloc, up_read) == 0) u->reading = 1;
}

static void on_connect(uv_connect_t *req, int status) {
    tp_up *u = TP_CONTAINER(req, tp_up, connect_req);
    tp_worker *w = u->worker;
    if (u->state == TP_UP_CLOSING) return;
    if (status < 0) {
        up_fail(u, status == UV_ETIMEDOUT ? TP_UPSTREAM_CONNECT_TIMEOUT : TP_UPSTREAM_CONNECT_FAILED);
    } else if (!u->ex && !u->h2) {
        tp_up_close(u);
    } else if (u->tls) {
        /* HTTP/2 over TLS offers only h2 in ALPN: the upstream must agree to it. */
        u->ssl = tp_tls_client_ssl(u->tls, &u->rbio, &u->wbio);
        if (u->ssl && u->h2) SSL_set_alpn_protos(u->ssl, (const unsigned char *)"\x02h2", 3);
        if (!u->ssl) {
            up_fail(u, TP_UPSTREAM_CONNECT_FAILED);
        } else {
            u->state = TP_UP_HANDSHAKE;
            up_start_reading(u);
            up_handshake(u);
        }
    } else if (u->h2) {
        up_h2_ready(u);
    } else {
        u->state = TP_UP_ACTIVE;
        u->deadline_ns = tp_loop_ns(u->worker) + u->timeout_ns;
        up_start_reading(u);
        tp_up_schedule_flush(u);  /* pipelined heads gathered while connecting */
        tp_conn_mark_dirty(u->ex->conn);
    }
    tp_worker_flush_dirty(w);
}

/* The exchange becomes the connection's front request. A pipelined one's head is
 * gathered for this iteration's write instead of being written by tp_up_pump_body. */
static void attach(tp_up *u, tp_exchange *ex, int pipelined) {
    ex->up = u;
    begin_response(u, ex);
    u->head_pending = 1;
    if (pipelined) {
        pipe_join(u);
        u->head_pending = 0;
        if (pipe_write_head(u, ex) != 0) ex->pending_error = TP_UPSTREAM_RESET;
    }
}

/* A connection of the endpoint's pool that takes one more request now: pipelined HTTP/1.1
 * or HTTP/2, as the exchange's target asks. */
static tp_up *pipe_with_room(tp_pool *p, const tp_exchange *ex) {
    if (!p) return NULL;
    int h2 = ex->target.http2;
    unsigned depth = h2 ? (ex->target.pipeline_depth ? ex->target.pipeline_depth : 100)
                        : (ex->target.pipeline_depth < TP_PIPELINE_MAX ? ex->target.pipeline_depth : TP_PIPELINE_MAX);
    for (tp_link *l = p->pipes.next; l != &p->pipes; l = l->next) {
        tp_up *u = TP_CONTAINER(l, tp_up, pipe_link);
        if (u->state == TP_UP_CLOSING) continue;
        /* HTTP/2: the session allows another stream. HTTP/1.1: a request is being answered
         * (the ring has a front), fewer than the depth are in flight, and reading is not
         * paused for a slow client (a request joining would wait behind it). */
        if (h2 ? u->h2 && tp_up_h2_has_room(u, depth)
               : !u->h2 && u->ex && !u->paused && in_flight(u) < depth) return u;
    }
    return NULL;
}

/* A new connection to the exchange's endpoint, connecting; NULL when it cannot start. */
static tp_up *up_open(tp_exchange *ex) {
    tp_worker *w = ex->conn->worker;
    tp_up *u = calloc(1, sizeof(tp_up));
    if (u) u->rbuf = malloc(TP_UPSTREAM_BUF);
    if (!u || !u->rbuf) {
        if (u) free(u);
        return NULL;
    }
    u->worker = w;
    u->endpoint_id = ex->target.endpoint_id;
    u->state = TP_UP_CONNECTING;
    uv_tcp_init(&w->loop, &u->tcp);
    uv_tcp_nodelay(&u->tcp, 1);
    tp_list_insert(&w->ups, &u->link);
    if (ex->target.tls) {
        u->tls = ex->target.tls;
        tp_tls_client_retain(u->tls);
    }
    uint32_t cto = ex->target.connect_timeout_ms ? ex->target.connect_timeout_ms : 3000;
    u->deadline_ns = tp_loop_ns(w) + (uint64_t)cto * 1000000ull;
    if (w->detached_upstreams && !u->tls) {
        u->detached = 1;
        u->state = TP_UP_ACTIVE;  /* "connected" at once */
        u->reading = 1;
        return u;
    }
    if (uv_tcp_connect(&u->connect_req, &u->tcp, (const struct sockaddr *)ex->target.addr, on_connect) != 0) {
        tp_up_close(u);
        return NULL;
    }
    return u;
}

/* HTTP/2: a stream on a connection of the endpoint's with room, or on a new one. */
static void begin_h2(tp_exchange *ex, tp_pool *p) {
    tp_up *u = pipe_with_room(p, ex);
    if (!u) {
        u = up_open(ex);
        if (!u || tp_up_h2_init(u) != 0) {
            if (u) tp_up_close(u);
            ex->pending_error = TP_UPSTREAM_CONNECT_FAILED;
            return;
        }
        pipe_join(u);
    }
    if (tp_up_h2_submit(u, ex) != 0) ex->pending_error = TP_UPSTREAM_RESET;
}

void tp_up_begin(tp_exchange *ex) {
    tp_worker *w = ex->conn->worker;
    tp_pool *p = tp_worker_pool(w, ex->target.endpoint_id);
    if (ex->target.http2) {
        begin_h2(ex, p);
        return;
    }
    int pipelined = pipelinable(ex);
    if (pipelined) {
        tp_up *u = pipe_with_room(p, ex);
        if (u) {
            unsigned k = (u->qhead + u->qcount) % TP_PIPELINE_MAX;
            if (pipe_write_head(u, ex) != 0) {
                ex->pending_error = TP_UPSTREAM_RESET;
                return;
            }
            u->queue[k] = ex;
            u->qcount++;
            ex->up = u;
            return;
        }
    }
    if (p && p->idle_count > 0) {
        tp_link *l = p->idle.next;
        tp_up *u = TP_CONTAINER(l, tp_up, idle_link);
        tp_list_remove(l);
        p->idle_count--;
        u->state = TP_UP_ACTIVE;
        u->reused = 1;
        attach(u, ex, pipelined);
        u->deadline_ns = tp_loop_ns(u->worker) + u->timeout_ns;
        if (u->paused) { u->paused = 0; }
        up_start_reading(u);
        return;  /* tp_conn_progress writes head and body together */
    }
    tp_up *u = up_open(ex);
    if (!u) {
        ex->pending_error = TP_UPSTREAM_CONNECT_FAILED;
        return;
    }
    attach(u, ex, pipelined);
}

void tp_up_client_drained(tp_exchange *ex) {
    if (ex->up_stream) { tp_up_h2_client_drained(ex); return; }
    tp_up *u = ex->up;
    if (!u || !u->paused || u->ex != ex) return;
    if (tp_ex_client_queue(ex) > TP_LOW_WATER) return;
    u->paused = 0;
    u->deadline_ns = tp_loop_ns(u->worker) + u->timeout_ns;
    up_start_reading(u);
}

void tp_up_flush_pending(tp_worker *w) {
    if (tp_list_empty(&w->up_flush)) return;  /* every loop iteration comes here */
    while (!tp_list_empty(&w->up_flush)) {
        tp_up *u = TP_CONTAINER(w->up_flush.next, tp_up, flush_link);
        tp_list_remove(&u->flush_link);
        if (u->state != TP_UP_ACTIVE) continue;
        if (u->h2 && tp_up_h2_produce(u) != 0) { up_fail(u, TP_UPSTREAM_RESET); continue; }
        if (u->out.len == 0) continue;
        if (u->detached) { u->out.len = 0; continue; }
        if (u->ssl) {
            /* One SSL_write: the iteration's frames share TLS records. */
            int bad = SSL_write(u->ssl, u->out.data, (int)u->out.len) <= 0;
            u->out.len = 0;
            if (bad || tp_tls_send_output(u->wbio, (uv_stream_t *)&u->tcp, &u->pending_writes, up_write_done, u) != 0)
                up_fail(u, TP_UPSTREAM_RESET);
            continue;
        }
        uv_buf_t b = uv_buf_init((char *)u->out.data, (unsigned)u->out.len);
        u->out.len = 0;  /* what the socket does not take now is copied into the queued write */
        if (tp_stream_write((uv_stream_t *)&u->tcp, &b, 1, &u->pending_writes, up_write_done, u) != 0)
            up_fail(u, TP_UPSTREAM_RESET);
    }
    tp_worker_flush_dirty(w);
}

/* Waiting requests past their own timeout get a timeout; the connection is closing. */
static void expire_queue(tp_up *u) {
    uint64_t now = uv_hrtime();
    for (unsigned i = 0, k = u->qhead; i < u->qcount; i++, k = (k + 1) % TP_PIPELINE_MAX) {
        tp_exchange *ex = u->queue[k];
        if (!ex) continue;
        if (now - ex->stats.upstream_start_ns < tp_ex_upstream_timeout_ns(ex)) continue;
        u->queue[k] = NULL;
        ex->up = NULL;
        ex->pending_error = TP_UPSTREAM_TIMEOUT;
        tp_conn_mark_dirty(ex->conn);
    }
}

void tp_up_sweep(tp_up *u, uint64_t now) {
    if (u->h2 && u->state == TP_UP_ACTIVE) { tp_up_h2_sweep(u, now); return; }
    if (u->state == TP_UP_CLOSING || u->paused || u->deadline_ns == 0 || now < u->deadline_ns) return;
    if (u->qcount) expire_queue(u);
    switch (u->state) {
    case TP_UP_IDLE: tp_up_close(u); break;
    case TP_UP_CONNECTING:
    case TP_UP_HANDSHAKE: up_fail(u, TP_UPSTREAM_CONNECT_TIMEOUT); break;
    case TP_UP_ACTIVE:
        if (!u->head_done) up_fail(u, TP_UPSTREAM_TIMEOUT);
        else if (u->ex) {
            tp_exchange *ex = u->ex;
            tp_up_close(u);
            tp_ex_abort(ex);
        } else tp_up_close(u);
        break;
    default: break;
    }
}

int tp_target_set_addr(tp_upstream_target *target, const char *ip, uint16_t port) {
    memset(target->addr, 0, sizeof target->addr);
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    if (uv_ip4_addr(ip, port, &a4) == 0) {
        memcpy(target->addr, &a4, sizeof a4);
        return 0;
    }
    if (uv_ip6_addr(ip, port, &a6) == 0) {
        memcpy(target->addr, &a6, sizeof a6);
        return 0;
    }
    return -EINVAL;
}

void tp_up_feed(tp_up *u, const uint8_t *data, size_t len) {
    if (u->state == TP_UP_CLOSING) return;
    if (len == 0) {
        up_read((uv_stream_t *)&u->tcp, UV_EOF, NULL);
        return;
    }
    uv_buf_t b;
    up_alloc((uv_handle_t *)&u->tcp, len, &b);
    if (b.len == 0) {
        up_read((uv_stream_t *)&u->tcp, UV_ENOBUFS, &b);
        return;
    }
    size_t n = len < b.len ? len : b.len;
    memcpy(b.base, data, n);
    up_read((uv_stream_t *)&u->tcp, (ssize_t)n, &b);
}
