/*
 * client.c — the server side of HTTP/1.1: one tp_conn per accepted connection,
 * one exchange at a time, pipelined requests parsed from the same read buffer.
 *
 * Every event (read, write done, upstream progress, Swift's answer) ends in
 * tp_conn_progress(), the one state machine that decides what happens next.
 * Functions Swift calls never run it directly: they mark the connection dirty and
 * the event handler that is on the stack runs it once Swift has returned, so Swift
 * is never re-entered from inside its own callback.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "internal.h"

static void on_conn_closed(uv_handle_t *h) {
    tp_conn *c = (tp_conn *)h;
    tp_worker *w = c->worker;
    tp_h2_free(c);
    tp_tls_conn_free(c);
    free(c->rbuf);
    tp_buf_free(&c->ex.up_head);
    tp_buf_free(&c->ex.client_head);
    tp_buf_free(&c->ex.body_buf);
    free(c);
    tp_worker_conn_closed(w);
}

static void end_exchange(tp_conn *c) {
    tp_exchange *ex = &c->ex;
    tp_worker *w = c->worker;
    ex->stats.end_ns = uv_hrtime();
    ex->state = TP_EX_NONE;
    if (w->cb.on_exchange_end) w->cb.on_exchange_end(w->ctx, ex, &ex->stats);
}

void tp_conn_close(tp_conn *c) {
    if (c->closing) return;
    if (c->ssl && !c->lingering && !c->notified) {
        /* Sending close_notify may fail and close the connection from inside: once only. */
        c->notified = 1;
        tp_tls_conn_close_notify(c);
        if (c->closing) return;
    }
    c->closing = 1;
    if (c->h2) tp_h2_close(c);
    tp_exchange *ex = &c->ex;
    if (ex->state != TP_EX_NONE) {
        if (ex->up) tp_up_detach(ex, 0);
        if (!ex->response_complete || c->pending_writes) ex->stats.aborted = 1;
        end_exchange(c);
    }
    tp_list_remove(&c->dirty_link);
    tp_list_remove(&c->h2_flush_link);
    tp_list_remove(&c->link);
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

void tp_conn_mark_dirty(tp_conn *c) {
    if (c->closing || c->dirty_link.next != NULL) return;
    /* At the tail, so connections progress in the order they became ready. */
    tp_list_append(&c->worker->dirty, &c->dirty_link);
}

void tp_conn_make_room(tp_conn *c) {
    tp_compact(c->rbuf, &c->rpos, &c->rlen, c->rcap, 0);
    if (c->rcap - c->rlen < 4096 && c->rcap < TP_CLIENT_BUF_MAX) {
        uint8_t *p = realloc(c->rbuf, c->rcap * 2);
        if (p) { c->rbuf = p; c->rcap *= 2; }
    }
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)suggested;
    tp_conn *c = (tp_conn *)h;
    if (c->ssl) {
        /* Ciphertext goes to the worker's scratch and straight into the read BIO. */
        buf->base = (char *)c->worker->tls_in;
        buf->len = sizeof c->worker->tls_in;
        return;
    }
    tp_conn_make_room(c);
    buf->base = (char *)c->rbuf + c->rlen;
    buf->len = c->rcap - c->rlen;
}

static void conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void ensure_reading(tp_conn *c) {
    if (c->reading || c->closing || c->peer_eof) return;
    if (c->ssl) {
        if (tp_tls_conn_buffered(c) >= TP_HIGH_WATER) return;
    } else {
        if (c->rpos == c->rlen) c->rpos = c->rlen = 0;
        if (c->rlen == c->rcap && c->rpos == 0 && c->rcap >= TP_CLIENT_BUF_MAX) return;
    }
    if (c->detached) { c->reading = 1; return; }
    if (uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read) == 0) c->reading = 1;
}

void tp_conn_ensure_reading(tp_conn *c) { ensure_reading(c); }

static void on_shutdown(uv_shutdown_t *req, int status) {
    (void)status;
    free(req);
}

/* Half-close and read until the client closes too (or TP_LINGER_MS), so that the
 * response is not destroyed by a reset caused by unread input. */
static void conn_linger(tp_conn *c) {
    if (c->closing || c->lingering) return;
    if (c->ssl && !c->notified) {
        c->notified = 1;
        tp_tls_conn_close_notify(c);
        if (c->closing) return;
    }
    c->lingering = 1;
    c->rpos = c->rlen;
    c->deadline_ns = tp_loop_ns(c->worker) + (uint64_t)TP_LINGER_MS * 1000000ull;
    if (c->peer_eof) { tp_conn_close(c); return; }
    uv_shutdown_t *req = malloc(sizeof *req);
    if (!req || c->detached || uv_shutdown(req, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        free(req);
        tp_conn_close(c);
        return;
    }
    ensure_reading(c);
}

static void conn_write_done(void *owner, int status) {
    tp_conn *c = owner;
    if (c->closing) return;
    if (status < 0) { tp_conn_close(c); return; }
    if (c->ex.state == TP_EX_PROXYING && c->ex.up)
        tp_up_client_drained(&c->ex);
    tp_conn_mark_dirty(c);
    tp_worker_flush_dirty(c->worker);
}

int tp_conn_write(tp_conn *c, const uv_buf_t *bufs, unsigned n) {
    if (c->closing) return -1;
    if (c->ssl) {
        if (tp_tls_conn_write(c, bufs, n) != 0) { tp_conn_close(c); return -1; }
        return 0;
    }
    return tp_conn_write_raw(c, bufs, n);
}

int tp_conn_write_raw(tp_conn *c, const uv_buf_t *bufs, unsigned n) {
    if (c->closing) return -1;
    if (c->detached) return 0;
    int r = tp_stream_write((uv_stream_t *)&c->tcp, bufs, n, &c->pending_writes,
                            conn_write_done, c);
    if (r != 0) {
        tp_conn_close(c);
        return -1;
    }
    return 0;
}

size_t tp_conn_write_queue(tp_conn *c) { return c->tcp.write_queue_size; }

const char *tp_status_reason(uint16_t status) {
    switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 413: return "Request Entity Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

/* Answers a request the parser refused. Swift never sees it; the connection is closed
 * because the parser cannot know where the next request would start. */
static void conn_reject(tp_conn *c, uint16_t status) {
    char msg[96], out[384], id[17];
    const char *reason = tp_status_reason(status);
    tp_worker_request_id(c->worker, id);
    int blen = snprintf(msg, sizeof msg, "{\"message\":\"%s\"}", reason);
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 %u %s\r\ncontent-type: application/json\r\napigw-requestid: %s\r\n"
                     "content-length: %d\r\nconnection: close\r\n\r\n%s",
                     status, reason, id, blen, msg);
    uv_buf_t b = uv_buf_init(out, (unsigned)n);
    if (tp_conn_write(c, &b, 1) != 0) return;
    conn_linger(c);
}

/* Drops request body bytes after an early local response. */
static void discard_body(tp_conn *c) {
    tp_exchange *ex = &c->ex;
    while (!ex->req_done && c->rpos < c->rlen) {
        size_t avail = c->rlen - c->rpos;
        if (ex->req_mode == TP_BODY_LENGTH) {
            size_t n = avail < ex->req_remaining ? avail : (size_t)ex->req_remaining;
            c->rpos += n;
            ex->req_remaining -= n;
            ex->stats.request_body_bytes += n;
            if (ex->req_remaining == 0) ex->req_done = 1;
        } else {
            size_t used = 0, dlen = 0;
            const uint8_t *data = NULL;
            tp_chunk_result r = tp_chunked_decode(&ex->req_chunked, c->rbuf + c->rpos, avail,
                                                  &used, &data, &dlen);
            c->rpos += used;
            ex->stats.request_body_bytes += dlen;
            if (r == TP_CHUNK_DONE) ex->req_done = 1;
            else if (r == TP_CHUNK_ERROR || ex->stats.request_body_bytes > TP_DISCARD_MAX) {
                ex->close_after = 1;
                return;
            }
        }
    }
}

static void start_exchange(tp_conn *c, const tp_request_head *h) {
    tp_exchange *ex = &c->ex;
    tp_worker *w = c->worker;
    tp_buf up_head = ex->up_head, client_head = ex->client_head, body_buf = ex->body_buf;
    memset(ex, 0, sizeof *ex);
    ex->body_buf = body_buf;
    ex->body_buf.len = 0;
    ex->up_head = up_head;
    ex->up_head.len = 0;
    ex->client_head = client_head;
    ex->client_head.len = 0;
    ex->conn = c;
    ex->stats.start_ns = uv_hrtime();
    ex->is_head = h->method.len == 4 && memcmp(h->method.ptr, "HEAD", 4) == 0;
    ex->client_minor = h->version_minor;
    ex->expect_continue = h->expect_continue;
    ex->close_after = !h->keep_alive || w->draining;
    if (h->chunked) {
        ex->req_mode = TP_BODY_CHUNKED;
        tp_chunked_init(&ex->req_chunked);
    } else if (h->content_length > 0) {
        ex->req_mode = TP_BODY_LENGTH;
        ex->req_remaining = (uint64_t)h->content_length;
    } else {
        ex->req_mode = TP_BODY_NONE;
        ex->req_done = 1;
        ex->req_forward_done = 1;
    }
    ex->state = TP_EX_DISPATCHED;
}

void tp_conn_progress(tp_conn *c) {
    tp_worker *w = c->worker;
    while (!c->closing) {
        tp_exchange *ex = &c->ex;
        if (c->lingering) return;
        /* Plaintext still locked in the TLS engine (the read buffer was full): decrypt. */
        if (c->ssl && c->tls_ready && c->rcap - (c->rlen - c->rpos) >= 4096 &&
            (tp_tls_conn_buffered(c) > 0 || SSL_pending(c->ssl) > 0)) {
            if (tp_tls_conn_pump(c) < 0) { tp_conn_close(c); return; }
        }
        if (!c->proto_decided && c->info.request_index == 0 && ex->state == TP_EX_NONE) {
            int h2 = 0;
            if (c->ssl) {
                if (!c->tls_ready) { ensure_reading(c); return; }
                const unsigned char *alpn = NULL;
                unsigned alpn_len = 0;
                SSL_get0_alpn_selected(c->ssl, &alpn, &alpn_len);
                h2 = alpn_len == 2 && memcmp(alpn, "h2", 2) == 0;
            } else if (c->h2c) {
                /* Prior knowledge: the connection opens with the HTTP/2 preface. */
                size_t avail = c->rlen - c->rpos;
                size_t cmp = avail < TP_H2_PREFACE_LEN ? avail : TP_H2_PREFACE_LEN;
                if (cmp == 0) { ensure_reading(c); return; }
                h2 = memcmp(c->rbuf + c->rpos, TP_H2_PREFACE, cmp) == 0;
                if (h2 && avail < TP_H2_PREFACE_LEN) {
                    if (c->peer_eof) { tp_conn_close(c); return; }
                    ensure_reading(c);
                    return;
                }
            }
            c->proto_decided = 1;
            if (h2 && tp_h2_start(c) != 0) { tp_conn_close(c); return; }
        }
        if (c->h2) {
            tp_h2_progress(c);
            return;
        }
        if (ex->state == TP_EX_NONE) {
            size_t avail = c->rlen - c->rpos;
            if (avail == 0) {
                if (w->draining || c->peer_eof) { tp_conn_close(c); return; }
                /* A TLS handshake keeps the deadline it got at accept: bytes that trickle
                 * in must not extend it (slowloris). */
                if (c->ssl && !c->tls_ready) { ensure_reading(c); return; }
                c->deadline_ns = tp_loop_ns(w) + (uint64_t)w->opt.keepalive_timeout_ms * 1000000ull;
                ensure_reading(c);
                return;
            }
            size_t head_len = 0;
            uint16_t status = 400;
            tp_parse_result r = tp_http1_parse_request(c->rbuf + c->rpos, avail, &w->opt.limits,
                                                       &w->req_head, &head_len, &status);
            if (r == TP_PARSE_NEED_MORE) {
                if (c->peer_eof) { tp_conn_close(c); return; }
                if (avail > (size_t)w->opt.limits.max_head_bytes) { conn_reject(c, 431); return; }
                uint64_t hd = tp_loop_ns(w) + (uint64_t)w->opt.header_timeout_ms * 1000000ull;
                if (c->deadline_ns == 0 || c->deadline_ns > hd) c->deadline_ns = hd;
                ensure_reading(c);
                return;
            }
            if (r == TP_PARSE_ERROR) { conn_reject(c, status); return; }
            start_exchange(c, &w->req_head);
            c->rpos += head_len;
            c->deadline_ns = 0;
            w->cb.on_request(w->ctx, ex, &w->req_head, &c->info);
            c->info.request_index++;
            continue;
        }
        if (ex->state == TP_EX_DISPATCHED) {
            if (ex->body_reading) {
                if (tp_ex_buffer_body(c)) continue;
                ensure_reading(c);
            }
            return;
        }
        if (ex->state == TP_EX_PROXYING && ex->pending_error) {
            tp_upstream_error kind = (tp_upstream_error)ex->pending_error;
            ex->pending_error = 0;
            tp_ex_upstream_failed(ex, kind);
            continue;
        }
        if (ex->state == TP_EX_PROXYING && ex->up) tp_up_pump_body(ex);
        else if (!ex->req_done && ex->response_complete) discard_body(c);
        if (c->closing) return;
        if (ex->pending_error) continue;
        if (ex->response_complete && c->pending_writes == 0) {
            int close_after = ex->close_after || w->draining;
            if (!ex->req_done) {
                if (!close_after) { ensure_reading(c); return; }
                end_exchange(c);
                conn_linger(c);
                return;
            }
            end_exchange(c);
            if (close_after) {
                if (c->rpos < c->rlen) conn_linger(c);
                else tp_conn_close(c);
                return;
            }
            continue;
        }
        if (c->peer_eof && !ex->req_done) { tp_conn_close(c); return; }
        if (ex->req_done || ex->state != TP_EX_PROXYING || ex->up) ensure_reading(c);
        return;
    }
}

static void conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    tp_conn *c = (tp_conn *)s;
    tp_worker *w = c->worker;
    if (nread > 0 && c->ssl) {
        if (!c->lingering) {
            BIO_write(c->rbio, buf->base, (int)nread);
            if (tp_tls_conn_pump(c) < 0) tp_conn_close(c);
            else tp_conn_progress(c);
            if (!c->closing && tp_tls_conn_buffered(c) >= TP_HIGH_WATER) {
                uv_read_stop(s);
                c->reading = 0;
            }
        }
    } else if (nread > 0) {
        c->rlen += (size_t)nread;
        if (c->lingering) c->rpos = c->rlen;
        else tp_conn_progress(c);
    } else if (nread == UV_ENOBUFS) {
        uv_read_stop(s);
        c->reading = 0;
    } else if (nread < 0) {
        uv_read_stop(s);
        c->reading = 0;
        c->peer_eof = 1;
        if (nread != UV_EOF || c->lingering) tp_conn_close(c);
        else tp_conn_progress(c);
    }
    tp_worker_flush_dirty(w);
}

void tp_conn_accept(tp_worker *w, uv_stream_t *server, uint32_t listener_id, tp_tls_ctx *tls, int h2c) {
    tp_conn *c = calloc(1, sizeof(tp_conn));
    if (!c) return;
    uv_tcp_init(&w->loop, &c->tcp);
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)free);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    c->worker = w;
    c->rbuf = malloc(TP_CLIENT_BUF_INITIAL);
    c->rcap = c->rbuf ? TP_CLIENT_BUF_INITIAL : 0;
    c->info.listener_id = listener_id;
    c->h2c = (uint8_t)(h2c && !tls);
    c->info.connection_id = ++w->next_conn_id;
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            uv_ip4_name(a, c->info.client_ip, sizeof c->info.client_ip);
            c->info.client_port = ntohs(a->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            uv_ip6_name(a, c->info.client_ip, sizeof c->info.client_ip);
            c->info.client_port = ntohs(a->sin6_port);
        }
    }
    len = sizeof ss;
    if (uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) c->info.local_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else c->info.local_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    tp_list_insert(&w->conns, &c->link);
    w->open_conns++;
    if (!c->rbuf || (tls && tp_tls_conn_start(c, tls) != 0)) { tp_conn_close(c); return; }
    c->deadline_ns = tp_loop_ns(w) + (uint64_t)w->opt.header_timeout_ms * 1000000ull;
    ensure_reading(c);
}

tp_conn *tp_conn_new_detached(tp_worker *w, int h2c) {
    tp_conn *c = calloc(1, sizeof(tp_conn));
    if (!c) return NULL;
    uv_tcp_init(&w->loop, &c->tcp);
    c->worker = w;
    c->detached = 1;
    c->h2c = (uint8_t)(h2c != 0);
    c->rbuf = malloc(TP_CLIENT_BUF_INITIAL);
    c->rcap = c->rbuf ? TP_CLIENT_BUF_INITIAL : 0;
    c->info.connection_id = ++w->next_conn_id;
    tp_list_insert(&w->conns, &c->link);
    w->open_conns++;
    if (!c->rbuf) { tp_conn_close(c); return NULL; }
    return c;
}

void tp_conn_sweep(tp_conn *c, uint64_t now) {
    if (c->h2 && !c->closing) tp_h2_sweep(c, now);
    if (c->closing || c->deadline_ns == 0 || now < c->deadline_ns) return;
    /* A body being buffered for Swift (request_body.c) must arrive whole by its deadline. */
    if (c->lingering || (c->h2 ? tp_h2_open_streams(c) == 0 : c->ex.state == TP_EX_NONE || c->ex.body_reading))
        tp_conn_close(c);
}

/* The upstream side failed: Swift chooses a retry or an answer, unless the client
 * already has a head, in which case the response is cut. */
void tp_ex_upstream_failed(tp_exchange *ex, tp_upstream_error kind) {
    tp_conn *c = ex->conn;
    tp_worker *w = c->worker;
    if (ex->head_sent) {
        tp_ex_abort(ex);
        return;
    }
    ex->retry_allowed = kind == TP_UPSTREAM_CONNECT_FAILED || kind == TP_UPSTREAM_CONNECT_TIMEOUT;
    w->cb.on_upstream_error(w->ctx, ex, kind);
    ex->retry_allowed = 0;
    if (ex->state == TP_EX_PROXYING && ex->up == NULL && !ex->response_complete &&
        !ex->pending_error) {
        static const char head[] = "HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\n";
        static const char body[] = "{\"message\":\"Internal Server Error\"}";
        tp_exchange_respond(ex, (const uint8_t *)head, sizeof head - 1,
                            (const uint8_t *)body, sizeof body - 1, TP_RESPOND_CLOSE);
    }
    tp_conn_mark_dirty(c);
}

/* ---- the API Swift calls ---- */

void tp_exchange_set_user(tp_exchange *ex, uint64_t value) { ex->user = value; }
uint64_t tp_exchange_user(const tp_exchange *ex) { return ex->user; }
tp_worker *tp_exchange_worker(const tp_exchange *ex) { return ex->conn->worker; }

uint16_t tp_head_status(const uint8_t *head, size_t len) {
    if (len < 12) return 0;
    uint16_t s = 0;
    for (int i = 9; i < 12; i++) {
        if (head[i] < '0' || head[i] > '9') return 0;
        s = (uint16_t)(s * 10 + (head[i] - '0'));
    }
    return s;
}

void tp_exchange_respond(tp_exchange *ex, const uint8_t *head, size_t head_len,
                         const uint8_t *body, size_t body_len, int flags) {
    tp_conn *c = ex->conn;
    tp_worker *w = c->worker;
    if (c->closing || ex->head_sent || ex->response_complete) return;
    if (ex->state != TP_EX_DISPATCHED && ex->state != TP_EX_PROXYING) return;
    if (ex->up) tp_up_detach(ex, 0);
    if (ex->h2s) {
        /* HTTP/2: the stream ends, the connection stays (TP_RESPOND_CLOSE does not apply). */
        ex->state = TP_EX_RESPONDED;
        ex->head_sent = 1;
        ex->stats.status = tp_head_status(head, head_len);
        ex->stats.response_body_bytes = ex->is_head ? 0 : body_len;
        if (tp_h2_respond(ex, head, head_len, body, body_len) != 0) { tp_ex_abort(ex); return; }
        tp_ex_finish_response(ex);
        return;
    }
    if (flags & TP_RESPOND_CLOSE) ex->close_after = 1;
    tp_ex_finish_response(ex);
    int close_after = ex->close_after || w->draining;
    char framing[96];
    char *f = framing;
    uint16_t status = tp_head_status(head, head_len);
    /* RFC 9110 §8.6: no Content-Length in a 1xx or 204 response. */
    if (status >= 200 && status != 204) {
        f = TP_PUT_LIT(f, "content-length: ");
        f = tp_put_u64(f, body_len);
        f = TP_PUT_LIT(f, "\r\n");
    } else {
        body_len = 0;
    }
    if (close_after) f = TP_PUT_LIT(f, "connection: close\r\n");
    else if (ex->client_minor == 0) f = TP_PUT_LIT(f, "connection: keep-alive\r\n");
    f = TP_PUT_LIT(f, "\r\n");
    int flen = (int)(f - framing);
    uv_buf_t bufs[3] = {
        uv_buf_init((char *)head, (unsigned)head_len),
        uv_buf_init(framing, (unsigned)flen),
        uv_buf_init((char *)body, ex->is_head ? 0 : (unsigned)body_len),
    };
    ex->state = TP_EX_RESPONDED;
    ex->head_sent = 1;
    ex->stats.status = status;
    ex->stats.response_body_bytes = ex->is_head ? 0 : body_len;
    tp_conn_write(c, bufs, 3);
    tp_conn_mark_dirty(c);
}

/* Every response byte is queued. A request body still unread is discarded when
 * that is cheap, otherwise the connection closes after the response. */
void tp_ex_finish_response(tp_exchange *ex) {
    ex->response_complete = 1;
    if (ex->h2s) {
        tp_h2_finish(ex);
        tp_conn_mark_dirty(ex->conn);
        return;
    }
    if (!ex->req_done) {
        int may_discard = ex->req_mode == TP_BODY_LENGTH && ex->req_remaining <= TP_DISCARD_MAX &&
                          !(ex->expect_continue && !ex->sent_continue);
        if (!may_discard) ex->close_after = 1;
    }
    tp_conn_mark_dirty(ex->conn);
}

void tp_exchange_proxy(tp_exchange *ex, const tp_upstream_target *target,
                       const uint8_t *head, size_t head_len) {
    tp_conn *c = ex->conn;
    if (c->closing || ex->state != TP_EX_DISPATCHED) return;
    ex->up_head.len = 0;
    if (tp_buf_append(&ex->up_head, head, head_len) != 0) { tp_conn_close(c); return; }
    ex->target = *target;
    ex->state = TP_EX_PROXYING;
    ex->stats.upstream_start_ns = uv_hrtime();
    if (!ex->h2s && ex->expect_continue && !ex->req_done && c->rpos == c->rlen) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        uv_buf_t b = uv_buf_init((char *)cont, sizeof cont - 1);
        if (tp_conn_write(c, &b, 1) != 0) return;
        ex->sent_continue = 1;
    }
    ex->stats.attempts++;
    tp_up_begin(ex);
    tp_conn_mark_dirty(c);
}

void tp_exchange_retry(tp_exchange *ex, const tp_upstream_target *target) {
    if (!ex->retry_allowed || ex->conn->closing) return;
    ex->retry_allowed = 0;
    ex->target = *target;
    ex->stats.attempts++;
    tp_up_begin(ex);
    tp_conn_mark_dirty(ex->conn);
}

void tp_exchange_capture_body(tp_exchange *ex, uint64_t max_bytes) {
    ex->capture_max = max_bytes;
    ex->captured = 0;
    ex->capture_done = 0;
}

void tp_exchange_send_head(tp_exchange *ex, const uint8_t *head, size_t head_len) {
    if (ex->head_sent || ex->state != TP_EX_PROXYING) return;
    ex->client_head.len = 0;
    if (tp_buf_append(&ex->client_head, head, head_len) != 0) return;
    ex->stats.status = tp_head_status(head, head_len);
    ex->head_sent = 1;
}

/* ---- the exchange's client side: an HTTP/1.1 connection or an HTTP/2 stream ---- */

int tp_ex_write(tp_exchange *ex, const uv_buf_t *bufs, unsigned n) {
    if (ex->h2s) return tp_h2_write_body(ex, bufs, n);
    return tp_conn_write(ex->conn, bufs, n);
}

size_t tp_ex_client_queue(tp_exchange *ex) {
    size_t q = tp_conn_write_queue(ex->conn);
    return ex->h2s ? q + tp_h2_queued(ex) : q;
}

void tp_ex_abort(tp_exchange *ex) {
    if (ex->h2s) { tp_h2_abort(ex); return; }
    ex->stats.aborted = 1;
    tp_conn_close(ex->conn);
}
