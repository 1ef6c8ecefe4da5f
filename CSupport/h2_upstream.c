/*
 * h2_upstream.c — HTTP/2 toward upstreams, on nghttp2's client side: h2c with prior
 * knowledge over plain HTTP, or TLS with ALPN h2 (the handshake and the records are
 * upstream.c's, as for HTTP/1.1). Opt-in per target group (`http2: true`). Every request
 * for the group's endpoints becomes a stream on one of a few connections per endpoint (up
 * to pipeline_depth streams each), whatever its method or body; frames produced during one
 * loop iteration are written together by tp_up_flush_pending, as pipelined HTTP/1.1 heads
 * are. Unlike pipelining, a slow response does not hold up the others.
 *
 * A stream (tp_up_stream) belongs to its connection and is freed when nghttp2 closes it
 * or the connection goes. Its exchange may leave first (the client went away, Swift
 * answered itself): the stream is then reset with CANCEL and its remaining DATA dropped.
 *
 * Flow control: response DATA is given back to the upstream's window (consumed) as it is
 * written to the client, and held back while the client's queue is above the high-water
 * mark, so a slow client slows its own stream only. Request bodies are pulled from the
 * client side by nghttp2's data source as the upstream's window allows.
 */
#include <stdlib.h>
#include <string.h>
#include <nghttp2/nghttp2.h>
#include "internal.h"

#define TP_H2_UP_WINDOW (1u << 20)   /* per-stream receive window announced to the upstream */
#define TP_H2_UP_OUT_MAX (256u * 1024u)

struct tp_up_stream {
    tp_link link;             /* u->streams */
    tp_up *u;
    tp_exchange *ex;          /* NULL once the exchange left */
    int32_t id;
    uint8_t head_done;        /* the final response head was handed to Swift */
    uint8_t finished;         /* the whole response was relayed */
    uint8_t body_deferred;    /* the request body's source waits for client bytes */
    uint16_t status;
    int64_t content_length;   /* -1: not announced */
    size_t unconsumed;        /* response bytes held back from flow control (slow client) */
    uint64_t deadline_ns;     /* loop clock: response head, then between DATA frames */
    uint32_t nfields;
    uint32_t lens[2 * TP_MAX_HEADERS];
    tp_buf fields;            /* response field names and values, back to back */
};

static void stream_free(tp_up_stream *s) {
    tp_list_remove(&s->link);
    s->u->h2_streams--;
    tp_buf_free(&s->fields);
    free(s);
}

/* The exchange and the stream part; the exchange's client side is not touched. */
static tp_exchange *unlink_exchange(tp_up_stream *s) {
    tp_exchange *ex = s->ex;
    if (!ex) return NULL;
    s->ex = NULL;
    ex->up = NULL;
    ex->up_stream = NULL;
    return ex;
}

/* The stream ended before its response did: a request that never got a head is failed
 * with `kind` (or sent again when that is safe), a response already under way is cut. */
static void stream_lost(tp_up_stream *s, tp_upstream_error kind, int resend) {
    tp_exchange *ex = unlink_exchange(s);
    if (!ex || s->finished) return;
    if (s->head_done) {
        tp_ex_abort(ex);
        return;
    }
    if (resend && tp_ex_resendable(ex) && ex->redispatches++ < TP_MAX_REDISPATCH && !ex->conn->closing) {
        tp_up_begin(ex);
    } else {
        ex->pending_error = (uint8_t)kind;
    }
    tp_conn_mark_dirty(ex->conn);
}

static void connection_idle_check(tp_up *u) {
    if (u->h2_streams || u->state != TP_UP_ACTIVE) return;
    tp_worker *w = u->worker;
    u->deadline_ns = tp_loop_ns(w) + (uint64_t)w->opt.upstream_idle_timeout_ms * 1000000ull;
}

/* ---- the response ---- */

static void relay(tp_up_stream *s, const uint8_t *data, size_t len) {
    tp_exchange *ex = s->ex;
    tp_up *u = s->u;
    uv_buf_t bufs[4];
    unsigned n = 0;
    char size[24];
    static const char crlf[] = "\r\n";
    if (!ex->head_written) {
        if (!ex->h2s) bufs[n++] = uv_buf_init((char *)ex->client_head.data, (unsigned)ex->client_head.len);
        ex->head_written = 1;
    }
    if (len && ex->resp_chunked_out) {
        bufs[n++] = uv_buf_init(size, (unsigned)(TP_PUT_LIT(tp_put_hex(size, len), "\r\n") - size));
    }
    if (len) bufs[n++] = uv_buf_init((char *)data, (unsigned)len);
    if (len && ex->resp_chunked_out) bufs[n++] = uv_buf_init((char *)crlf, 2);
    tp_up_capture(ex, data, len);
    ex->stats.response_body_bytes += len;
    if (n && tp_ex_write(ex, bufs, n) != 0) {
        unlink_exchange(s);
        tp_ex_abort(ex);
        nghttp2_submit_rst_stream(u->h2, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
        return;
    }
    if (!len) return;
    if (tp_ex_client_queue(ex) > TP_HIGH_WATER) s->unconsumed += len;
    else nghttp2_session_consume(u->h2, s->id, len);
}

static void finish(tp_up_stream *s) {
    s->finished = 1;
    tp_exchange *ex = s->ex;
    if (!ex) return;
    static const char last_chunk[] = "0\r\n\r\n";
    uv_buf_t bufs[2];
    unsigned n = 0;
    if (!ex->head_written) {
        if (!ex->h2s) bufs[n++] = uv_buf_init((char *)ex->client_head.data, (unsigned)ex->client_head.len);
        ex->head_written = 1;
    }
    if (ex->resp_chunked_out) bufs[n++] = uv_buf_init((char *)last_chunk, 5);
    tp_up_capture(ex, NULL, 0);
    unlink_exchange(s);
    if (n && tp_ex_write(ex, bufs, n) != 0) { tp_ex_abort(ex); return; }
    tp_ex_finish_response(ex);
}

/* The final response head: Swift sets the client's head, then the body is framed. */
static void deliver_head(tp_up_stream *s, int end_stream) {
    tp_exchange *ex = s->ex;
    tp_worker *w = s->u->worker;
    tp_response_head *h = &w->resp_head;
    memset(h, 0, offsetof(tp_response_head, headers));
    h->status = s->status;
    h->version_minor = 1;
    h->keep_alive = 1;
    h->content_length = s->content_length;
    h->header_count = s->nfields;
    const uint8_t *p = s->fields.data;
    for (uint32_t i = 0; i < s->nfields; i++) {
        h->headers[i].name = (tp_slice){p, s->lens[2 * i]};
        p += s->lens[2 * i];
        h->headers[i].value = (tp_slice){p, s->lens[2 * i + 1]};
        p += s->lens[2 * i + 1];
    }
    s->head_done = 1;
    ex->stats.upstream_status = s->status;
    ex->stats.upstream_head_ns = uv_hrtime();
    tp_body_mode mode;
    if (ex->is_head || s->status == 204 || s->status == 304 || s->content_length == 0) mode = TP_BODY_NONE;
    else if (s->content_length > 0) mode = TP_BODY_LENGTH;
    else if (end_stream) mode = TP_BODY_NONE;
    else mode = TP_BODY_CHUNKED;  /* length unknown: chunked to HTTP/1.1 clients */
    w->cb.on_upstream_head(w->ctx, ex, h);
    if (ex->up_stream != s) return;  /* Swift answered with a response of its own */
    uint64_t remaining = s->content_length > 0 ? (uint64_t)s->content_length : 0;
    if (tp_ex_start_client_body(ex, mode, remaining, s->content_length, s->status) != 0 && s->ex) {
        unlink_exchange(s);  /* the client side is gone; the 502 path detached already */
        nghttp2_submit_rst_stream(s->u->h2, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
    }
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user) {
    (void)flags; (void)user;
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    tp_up_stream *s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (!s || s->head_done) return 0;  /* trailers are dropped */
    if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
        uint16_t status = 0;
        for (size_t i = 0; i < valuelen && i < 3; i++) status = (uint16_t)(status * 10 + (value[i] - '0'));
        s->status = status;
        return 0;
    }
    if (namelen && name[0] == ':') return 0;
    if (s->nfields >= TP_MAX_HEADERS) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    if (namelen == 14 && memcmp(name, "content-length", 14) == 0) {
        int64_t v = 0;
        for (size_t i = 0; i < valuelen; i++) v = v * 10 + (value[i] - '0');  /* nghttp2 checked the digits */
        s->content_length = v;
    }
    if (tp_buf_append(&s->fields, name, namelen) != 0 || tp_buf_append(&s->fields, value, valuelen) != 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    s->lens[2 * s->nfields] = (uint32_t)namelen;
    s->lens[2 * s->nfields + 1] = (uint32_t)valuelen;
    s->nfields++;
    return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user) {
    (void)user;
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
    tp_up_stream *s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (!s) return 0;
    int end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (frame->hd.type == NGHTTP2_HEADERS && !s->head_done) {
        if (s->status >= 100 && s->status < 200) {  /* interim: not relayed */
            s->nfields = 0;
            s->fields.len = 0;
            s->content_length = -1;
            return 0;
        }
        if (s->ex) {
            s->deadline_ns = tp_loop_ns(s->u->worker) + tp_ex_upstream_timeout_ns(s->ex);
            deliver_head(s, end_stream);
        } else {
            s->head_done = 1;
        }
    }
    if (end_stream && s->head_done && !s->finished) finish(s);
    return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data,
                         size_t len, void *user) {
    (void)flags; (void)user;
    tp_up_stream *s = nghttp2_session_get_stream_user_data(session, stream_id);
    if (!s || !s->ex || !s->head_done || s->ex->is_head) {
        nghttp2_session_consume(session, stream_id, len);  /* nobody reads it */
        return 0;
    }
    s->deadline_ns = tp_loop_ns(s->u->worker) + tp_ex_upstream_timeout_ns(s->ex);
    relay(s, data, len);
    return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *user) {
    (void)user;
    tp_up_stream *s = nghttp2_session_get_stream_user_data(session, stream_id);
    if (!s) return 0;
    tp_up *u = s->u;
    if (s->ex && !s->finished) {
        /* REFUSED_STREAM (also what a GOAWAY means for the streams above its last id): the
         * upstream did not process the request, so it may go again. */
        stream_lost(s, error_code ? TP_UPSTREAM_RESET : TP_UPSTREAM_BAD_RESPONSE,
                    error_code == NGHTTP2_REFUSED_STREAM);
    }
    stream_free(s);
    connection_idle_check(u);
    return 0;
}

/* ---- the request ---- */

/* Up to `len` request body bytes from the client side (an HTTP/1.1 connection's buffer,
 * de-chunked, or an HTTP/2 stream's DATA) into buf. *eof when the body is complete;
 * *err: a tp_upstream_error for a body that is invalid or too large. */
static size_t pull_body(tp_exchange *ex, uint8_t *buf, size_t len, int *eof, int *err) {
    size_t got = 0;
    tp_worker *w = ex->conn->worker;
    if (ex->h2s) {
        while (got < len) {
            const uint8_t *data = NULL;
            size_t avail = tp_h2_body_peek(ex, &data);
            if (avail == 0) {
                if (tp_h2_body_eof(ex)) {
                    if (ex->req_mode == TP_BODY_LENGTH && ex->req_remaining) *err = TP_CLIENT_BODY_INVALID;
                    else *eof = 1;
                }
                break;
            }
            size_t take = avail < len - got ? avail : len - got;
            if (ex->req_mode == TP_BODY_LENGTH) {
                if (take > ex->req_remaining) { *err = TP_CLIENT_BODY_INVALID; break; }
                ex->req_remaining -= take;
            }
            memcpy(buf + got, data, take);
            tp_h2_body_consume(ex, take);
            got += take;
        }
    } else {
        tp_conn *c = ex->conn;
        while (got < len && c->rpos < c->rlen) {
            size_t avail = c->rlen - c->rpos;
            if (ex->req_mode == TP_BODY_LENGTH) {
                size_t take = avail < len - got ? avail : len - got;
                if (take > ex->req_remaining) take = (size_t)ex->req_remaining;
                memcpy(buf + got, c->rbuf + c->rpos, take);
                c->rpos += take;
                got += take;
                ex->req_remaining -= take;
                if (ex->req_remaining == 0) { *eof = 1; break; }
            } else {
                size_t used = 0, dlen = 0;
                const uint8_t *data = NULL;
                size_t window = avail < len - got ? avail : len - got;
                tp_chunk_result r = tp_chunked_decode(&ex->req_chunked, c->rbuf + c->rpos, window, &used, &data, &dlen);
                c->rpos += used;
                if (r == TP_CHUNK_DATA) {
                    memcpy(buf + got, data, dlen);
                    got += dlen;
                } else if (r == TP_CHUNK_DONE) {
                    *eof = 1;
                    break;
                } else if (r == TP_CHUNK_ERROR) {
                    *err = TP_CLIENT_BODY_INVALID;
                    break;
                } else if (used == 0) {
                    break;
                }
            }
        }
        if (got || *eof) tp_conn_mark_dirty(c);  /* room in its buffer: it may read again */
    }
    ex->stats.request_body_bytes += got;
    if (ex->stats.request_body_bytes > w->opt.max_body_bytes) *err = TP_CLIENT_BODY_TOO_LARGE;
    return got;
}

static ssize_t read_body(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                         uint32_t *data_flags, nghttp2_data_source *source, void *user) {
    (void)session; (void)stream_id; (void)user;
    tp_up_stream *s = source->ptr;
    tp_exchange *ex = s->ex;
    if (!ex) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  /* the client left: reset */
    int eof = 0, err = 0;
    size_t n = pull_body(ex, buf, length, &eof, &err);
    if (err) {
        unlink_exchange(s);
        ex->close_after = 1;
        ex->pending_error = (uint8_t)err;
        tp_conn_mark_dirty(ex->conn);
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    if (eof) {
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
        ex->req_done = ex->req_forward_done = 1;
    } else if (n == 0) {
        s->body_deferred = 1;
        return NGHTTP2_ERR_DEFERRED;
    }
    return (ssize_t)n;
}

/* The request head Swift wrote (HTTP/1.1 text: request line, then "name: value" lines)
 * as HTTP/2 fields: pseudo-fields first, names lowercased, connection-specific fields
 * (RFC 9113 §8.2.2) left out, Host as :authority, and Content-Length from the framing. */
int tp_up_h2_submit(tp_up *u, tp_exchange *ex) {
    static const char *const dropped[] = {"connection", "keep-alive", "proxy-connection", "transfer-encoding",
                                          "upgrade", "host", "content-length", "te"};
    nghttp2_nv nv[TP_MAX_HEADERS + 6];
    size_t n = 0;
    const uint8_t *p = ex->up_head.data, *end = p + ex->up_head.len;
    tp_buf *lower = &u->worker->up_scratch;
    lower->len = 0;
    if (tp_buf_reserve(lower, ex->up_head.len + 32) != 0) return -1;
    const uint8_t *eol = memchr(p, '\n', (size_t)(end - p));
    const uint8_t *sp1 = memchr(p, ' ', (size_t)(end - p));
    if (!eol || !sp1 || sp1 > eol) return -1;
    const uint8_t *sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
    if (!sp2) return -1;
    nv[n++] = (nghttp2_nv){(uint8_t *)":method", (uint8_t *)p, 7, (size_t)(sp1 - p), NGHTTP2_NV_FLAG_NONE};
    nv[n++] = (nghttp2_nv){(uint8_t *)":scheme", (uint8_t *)"http", 7, 4, NGHTTP2_NV_FLAG_NONE};
    nv[n++] = (nghttp2_nv){(uint8_t *)":path", (uint8_t *)sp1 + 1, 5, (size_t)(sp2 - sp1 - 1), NGHTTP2_NV_FLAG_NONE};
    size_t authority = n++;
    nv[authority] = (nghttp2_nv){(uint8_t *)":authority", (uint8_t *)"", 10, 0, NGHTTP2_NV_FLAG_NONE};
    for (p = eol + 1; p < end && n < TP_MAX_HEADERS + 4;) {
        eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        const uint8_t *line_end = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
        const uint8_t *colon = memchr(p, ':', (size_t)(line_end - p));
        if (colon && colon > p) {
            size_t nlen = (size_t)(colon - p);
            uint8_t *name = lower->data + lower->len;
            for (size_t i = 0; i < nlen; i++) name[i] = (uint8_t)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
            lower->len += nlen;
            const uint8_t *v = colon + 1;
            while (v < line_end && (*v == ' ' || *v == '\t')) v++;
            size_t vlen = (size_t)(line_end - v);
            int skip = 0;
            for (size_t i = 0; i < sizeof dropped / sizeof dropped[0]; i++)
                if (strlen(dropped[i]) == nlen && memcmp(dropped[i], name, nlen) == 0) skip = 1;
            if (nlen == 4 && memcmp(name, "host", 4) == 0) {
                nv[authority].value = (uint8_t *)v;
                nv[authority].valuelen = vlen;
            } else if (nlen == 2 && memcmp(name, "te", 2) == 0 && vlen == 8 && memcmp(v, "trailers", 8) == 0) {
                skip = 0;
            }
            if (!skip) nv[n++] = (nghttp2_nv){name, (uint8_t *)v, nlen, vlen, NGHTTP2_NV_FLAG_NONE};
        }
        p = eol + 1;
    }
    char length[24];
    if (ex->req_mode == TP_BODY_LENGTH) {
        uint64_t total = ex->req_remaining + ex->stats.request_body_bytes;
        nv[n++] = (nghttp2_nv){(uint8_t *)"content-length", (uint8_t *)length, 14,
                               (size_t)(tp_put_u64(length, total) - length), NGHTTP2_NV_FLAG_NONE};
    }
    tp_up_stream *s = calloc(1, sizeof *s);
    if (!s) return -1;
    s->u = u;
    s->ex = ex;
    s->content_length = -1;
    s->deadline_ns = tp_loop_ns(u->worker) + tp_ex_upstream_timeout_ns(ex);
    nghttp2_data_provider body = {.source.ptr = s, .read_callback = read_body};
    int32_t id = nghttp2_submit_request(u->h2, NULL, nv, n, ex->req_mode == TP_BODY_NONE ? NULL : &body, s);
    if (id < 0) {
        free(s);
        return -1;
    }
    s->id = id;
    tp_list_append(&u->streams, &s->link);
    u->h2_streams++;
    ex->up = u;
    ex->up_stream = s;
    if (ex->req_mode == TP_BODY_NONE) ex->req_forward_done = 1;
    tp_up_schedule_flush(u);
    return 0;
}

/* ---- the connection ---- */

int tp_up_h2_init(tp_up *u) {
    nghttp2_session_callbacks *cb;
    if (nghttp2_session_callbacks_new(&cb) != 0) return -1;
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_option *opt;
    if (nghttp2_option_new(&opt) != 0) { nghttp2_session_callbacks_del(cb); return -1; }
    nghttp2_option_set_no_auto_window_update(opt, 1);  /* windows reopen as the client takes bytes */
    nghttp2_option_set_max_settings(opt, 32);
    nghttp2_option_set_max_outbound_ack(opt, 1000);
    int r = nghttp2_session_client_new2(&u->h2, cb, u, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cb);
    if (r != 0) { u->h2 = NULL; return -1; }
    tp_list_init(&u->streams);
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, TP_H2_UP_WINDOW},
    };
    nghttp2_submit_settings(u->h2, NGHTTP2_FLAG_NONE, settings, 2);
    /* The connection's own window: room for several streams' windows at once. */
    nghttp2_session_set_local_window_size(u->h2, NGHTTP2_FLAG_NONE, 0, 16 * TP_H2_UP_WINDOW);
    return 0;
}

void tp_up_h2_free(tp_up *u) {
    if (u->h2) nghttp2_session_del(u->h2);
    u->h2 = NULL;
}

int tp_up_h2_has_room(tp_up *u, unsigned depth) {
    return u->h2_streams < depth && nghttp2_session_check_request_allowed(u->h2);
}


/* Frames nghttp2 has ready, into this iteration's write; stops at the high-water mark. */
int tp_up_h2_produce(tp_up *u) {
    while (u->out.len < TP_H2_UP_OUT_MAX && u->tcp.write_queue_size <= TP_HIGH_WATER) {
        const uint8_t *data = NULL;
        ssize_t n = nghttp2_session_mem_send(u->h2, &data);
        if (n < 0) return -1;
        if (n == 0) break;
        if (tp_buf_append(&u->out, data, (size_t)n) != 0) return -1;
    }
    return 0;
}

int tp_up_h2_wants_write(tp_up *u) { return u->h2 && nghttp2_session_want_write(u->h2); }

/* Bytes from the socket; -1 when the session failed (the caller closes). */
int tp_up_h2_recv(tp_up *u, const uint8_t *data, size_t len) {
    ssize_t r = nghttp2_session_mem_recv(u->h2, data, len);
    if (r < 0) return -1;
    if (u->state == TP_UP_CLOSING) return 0;
    tp_up_schedule_flush(u);  /* SETTINGS ACKs, WINDOW_UPDATEs, resets */
    return 0;
}

/* The connection is going: every stream's exchange hears of it. A request the upstream
 * cannot have answered is sent again when safe (kind 0 means "lost", not "never sent"). */
void tp_up_h2_release(tp_up *u, tp_upstream_error kind) {
    if (!u->h2) return;
    while (!tp_list_empty(&u->streams)) {
        tp_up_stream *s = TP_CONTAINER(u->streams.next, tp_up_stream, link);
        if (s->ex && !s->finished) stream_lost(s, kind ? kind : TP_UPSTREAM_RESET, kind == 0);
        stream_free(s);
    }
}

void tp_up_h2_detach(tp_exchange *ex) {
    tp_up_stream *s = ex->up_stream;
    tp_up *u = s->u;
    unlink_exchange(s);
    if (s->finished || u->state == TP_UP_CLOSING) return;
    nghttp2_submit_rst_stream(u->h2, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
    if (s->unconsumed) nghttp2_session_consume_connection(u->h2, s->unconsumed);
    s->unconsumed = 0;
    tp_up_schedule_flush(u);
}

void tp_up_h2_pump(tp_exchange *ex) {
    tp_up_stream *s = ex->up_stream;
    if (!s->body_deferred) return;
    s->body_deferred = 0;
    nghttp2_session_resume_data(s->u->h2, s->id);
    tp_up_schedule_flush(s->u);
}

void tp_up_h2_client_drained(tp_exchange *ex) {
    tp_up_stream *s = ex->up_stream;
    if (!s->unconsumed || tp_ex_client_queue(ex) > TP_LOW_WATER) return;
    nghttp2_session_consume(s->u->h2, s->id, s->unconsumed);
    s->unconsumed = 0;
    tp_up_schedule_flush(s->u);
}

/* Per-stream deadlines; an idle connection past its idle timeout closes. */
void tp_up_h2_sweep(tp_up *u, uint64_t now) {
    for (tp_link *l = u->streams.next; l != &u->streams;) {
        tp_up_stream *s = TP_CONTAINER(l, tp_up_stream, link);
        l = l->next;
        if (!s->ex || s->finished || s->unconsumed || now < s->deadline_ns) continue;
        stream_lost(s, TP_UPSTREAM_TIMEOUT, 0);
        nghttp2_submit_rst_stream(u->h2, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
        tp_up_schedule_flush(u);
    }
    if (u->h2_streams == 0 && (u->worker->draining || (u->deadline_ns && now >= u->deadline_ns))) tp_up_close(u);
}
