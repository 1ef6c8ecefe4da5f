/*
 * h2.c — the server side of HTTP/2 (RFC 9113) on nghttp2.
 *
 * nghttp2 owns framing, HPACK and flow-control arithmetic; this file owns what the
 * library leaves to a server: turning streams into exchanges (the same ones the
 * HTTP/1.1 side hands Swift), moving bodies with backpressure in both directions, and
 * refusing abuse that is legal frame by frame (rapid reset, CONTINUATION floods,
 * HPACK bombs, control-frame floods).
 *
 * Flow: tp_conn_progress() → tp_h2_progress(): the plaintext in the connection's read
 * buffer goes through nghttp2_session_mem_recv(), whose callbacks only record (fields
 * into the stream, DATA into the stream's body buffer, "ready", "closed"); then ready
 * streams are dispatched to Swift in the order they opened, upstream pumps run, and
 * nghttp2's output is gathered into one buffer and written once. Closed streams end
 * their exchange last, so nothing Swift is told about can still be touched by a
 * callback.
 *
 * Memory bounds: a stream buffers at most its receive window of request body (the
 * window reopens only as bytes go upstream), and at most TP_HIGH_WATER of response
 * body (the upstream read pauses there, as for HTTP/1.1). Output is produced only
 * while the socket's write queue is under TP_HIGH_WATER.
 */
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <nghttp2/nghttp2.h>
#include "internal.h"

/* Defaults when tp_worker_options leaves them 0. */
#define H2_DEFAULT_STREAMS 128u
#define H2_DEFAULT_WINDOW 65535u
/* The connection-level receive window: per-stream windows are the real bound. */
#define H2_CONN_WINDOW (16u * 1024u * 1024u)
/* Output gathered before one write. */
#define H2_OUT_CHUNK (128u * 1024u)
/* A decoded header list this many times the limit ends the connection (HPACK bomb):
 * below it the stream alone is answered 431. */
#define H2_BOMB_FACTOR 4u
/* CONTINUATION frames allowed in one header block. */
#define H2_MAX_CONTINUATIONS 32u
/* Client resets of streams that were still being served: burst and refill per second. */
#define H2_RESET_BURST 200.0
#define H2_RESET_RATE 100.0
/* SETTINGS, PING, PRIORITY, WINDOW_UPDATE and empty DATA frames: burst and refill. */
#define H2_CONTROL_BURST 1000.0
#define H2_CONTROL_RATE 200.0
/* Stop reading a client that does not read its responses past this much queued output. */
#define H2_READ_PAUSE (4u * TP_HIGH_WATER)

typedef struct {
    uint32_t name_off, name_len, value_off, value_len;
} h2_field;

enum { P_METHOD, P_PATH, P_AUTHORITY, P_SCHEME, P_COUNT };

struct tp_h2_stream {
    tp_exchange ex;           /* ex.h2s points back here */
    tp_link link;             /* tp_h2.streams, in opening order */
    tp_h2 *h2;
    int32_t id;
    uint8_t ready;            /* the request head is complete */
    uint8_t dispatched;       /* handed to Swift (or answered by the shim) */
    uint8_t closed;           /* nghttp2 closed the stream */
    uint8_t req_eof;          /* END_STREAM from the client */
    uint8_t too_large;        /* header list over the limit → 431 */
    uint8_t bad;              /* a field the gateway refuses → 400 */
    uint8_t out_eof;          /* every response body byte is in `out` */
    uint8_t deferred;         /* the data source said "later": resume on new bytes */
    uint8_t submitted;        /* response HEADERS submitted */
    uint8_t has_pseudo[P_COUNT];
    uint32_t close_error;
    uint64_t body_deadline_ns; /* a body read for Swift must be whole by then (0: none) */
    uint32_t header_bytes;    /* RFC 9113 §6.5.2 size of the decoded list */
    uint32_t field_count;
    h2_field pseudo[P_COUNT];
    h2_field fields[TP_MAX_HEADERS - 1];  /* one place left for a host field from :authority */
    tp_buf hdr;               /* names and values, copied out of nghttp2 */
    tp_buf body;              /* request body received, not yet forwarded */
    size_t body_pos;
    tp_buf out;               /* response body waiting for DATA frames */
    size_t out_pos;
};

struct tp_h2 {
    nghttp2_session *session;
    tp_conn *conn;
    tp_link streams;
    uint32_t open_streams;
    tp_buf out;               /* frames gathered for one write */
    tp_buf scratch;           /* lower-cased response heads */
    uint32_t header_limit;
    uint32_t continuations;   /* in the header block being received */
    double reset_tokens, control_tokens;
    uint64_t reset_ns, control_ns;
    uint8_t goaway_sent;
    uint8_t calm_down;        /* a flood was seen: GOAWAY ENHANCE_YOUR_CALM, then close */
    uint8_t failed;           /* nghttp2 reported a fatal error */
    uint8_t flush_now;        /* called from the prepare phase: write what is gathered */
};

static tp_h2_stream *stream_of(tp_h2 *h, int32_t id) {
    return nghttp2_session_get_stream_user_data(h->session, id);
}

/* Token bucket: 1 when a token was taken, 0 when the bucket is empty. */
static int take_token(double *tokens, uint64_t *last_ns, double burst, double rate, uint64_t now) {
    if (*last_ns == 0) { *tokens = burst; *last_ns = now; }
    double refill = (double)(now - *last_ns) / 1e9 * rate;
    *last_ns = now;
    *tokens = *tokens + refill > burst ? burst : *tokens + refill;
    if (*tokens < 1.0) return 0;
    *tokens -= 1.0;
    return 1;
}

static void calm_down(tp_h2 *h) {
    if (h->calm_down) return;
    h->calm_down = 1;
    nghttp2_submit_goaway(h->session, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(h->session),
                          NGHTTP2_ENHANCE_YOUR_CALM, NULL, 0);
    h->goaway_sent = 1;
}

/* ---- nghttp2 callbacks: they record, they never call Swift ---- */

static ssize_t on_send(nghttp2_session *session, const uint8_t *data, size_t len, int flags, void *ud) {
    (void)session; (void)flags;
    tp_h2 *h = ud;
    if (h->out.len >= H2_OUT_CHUNK) return NGHTTP2_ERR_WOULDBLOCK;
    if (tp_buf_append(&h->out, data, len) != 0) return NGHTTP2_ERR_CALLBACK_FAILURE;
    return (ssize_t)len;
}

static int on_begin_frame(nghttp2_session *session, const nghttp2_frame_hd *hd, void *ud) {
    (void)session;
    tp_h2 *h = ud;
    if (hd->type == NGHTTP2_HEADERS) h->continuations = 0;
    else if (hd->type == NGHTTP2_CONTINUATION && ++h->continuations > H2_MAX_CONTINUATIONS) {
        calm_down(h);
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *ud) {
    tp_h2 *h = ud;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    tp_h2_stream *s = calloc(1, sizeof *s);
    if (!s) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    s->h2 = h;
    s->id = frame->hd.stream_id;
    s->ex.conn = h->conn;
    s->ex.h2s = s;
    tp_list_append(&h->streams, &s->link);  /* dispatch in opening order */
    h->open_streams++;
    nghttp2_session_set_stream_user_data(session, s->id, s);
    return 0;
}

static int name_is(const uint8_t *name, size_t len, const char *lit) {
    size_t n = strlen(lit);
    return len == n && memcmp(name, lit, n) == 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *ud) {
    (void)flags;
    tp_h2 *h = ud;
    tp_h2_stream *s = stream_of(h, frame->hd.stream_id);
    if (!s || frame->hd.type != NGHTTP2_HEADERS) return 0;
    s->header_bytes += (uint32_t)(namelen + valuelen + 32);
    if (s->header_bytes > h->header_limit * H2_BOMB_FACTOR) {
        calm_down(h);
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;  /* trailers: not forwarded */
    if (s->header_bytes > h->header_limit) { s->too_large = 1; return 0; }
    h2_field f;
    f.name_off = (uint32_t)s->hdr.len;
    f.name_len = (uint32_t)namelen;
    f.value_off = (uint32_t)(s->hdr.len + namelen);
    f.value_len = (uint32_t)valuelen;
    if (namelen > 0 && name[0] == ':') {
        int slot = name_is(name, namelen, ":method") ? P_METHOD
                 : name_is(name, namelen, ":path") ? P_PATH
                 : name_is(name, namelen, ":authority") ? P_AUTHORITY
                 : name_is(name, namelen, ":scheme") ? P_SCHEME : -1;
        if (slot < 0) { s->bad = 1; return 0; }  /* e.g. :protocol (extended CONNECT) */
        s->pseudo[slot] = f;
        s->has_pseudo[slot] = 1;
    } else {
        if (s->field_count >= TP_MAX_HEADERS - 1) { s->too_large = 1; return 0; }
        s->fields[s->field_count++] = f;
    }
    if (tp_buf_append(&s->hdr, name, namelen) != 0 || tp_buf_append(&s->hdr, value, valuelen) != 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *ud) {
    tp_h2 *h = ud;
    tp_worker *w = h->conn->worker;
    tp_h2_stream *s = frame->hd.stream_id ? stream_of(h, frame->hd.stream_id) : NULL;
    uint64_t now = tp_loop_ns(w) + 1;
    int control = 0;
    switch (frame->hd.type) {
    case NGHTTP2_HEADERS:
        if (!s) break;
        if (frame->headers.cat == NGHTTP2_HCAT_REQUEST && (frame->hd.flags & NGHTTP2_FLAG_END_HEADERS))
            s->ready = 1;
        if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) s->req_eof = 1;
        break;
    case NGHTTP2_DATA:
        if (s && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) s->req_eof = 1;
        else if (frame->hd.length == 0) control = 1;  /* empty DATA without END_STREAM */
        break;
    case NGHTTP2_RST_STREAM:
        /* A reset of a stream we had not finished costs a token (rapid reset): whether it
         * was dispatched yet only depends on how the attacker batches its frames. */
        if (s && !s->ex.response_complete &&
            !take_token(&h->reset_tokens, &h->reset_ns, H2_RESET_BURST, H2_RESET_RATE, now))
            calm_down(h);
        break;
    case NGHTTP2_SETTINGS:
    case NGHTTP2_PING:
        control = !(frame->hd.flags & NGHTTP2_FLAG_ACK);
        break;
    case NGHTTP2_PRIORITY:
    case NGHTTP2_WINDOW_UPDATE:
        control = 1;
        break;
    default:
        break;
    }
    if (control && !take_token(&h->control_tokens, &h->control_ns, H2_CONTROL_BURST, H2_CONTROL_RATE, now))
        calm_down(h);
    (void)session;
    return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data,
                         size_t len, void *ud) {
    (void)flags;
    tp_h2 *h = ud;
    nghttp2_session_consume_connection(session, len);
    tp_h2_stream *s = stream_of(h, stream_id);
    if (!s || s->closed || s->ex.response_complete || s->ex.req_done) {
        nghttp2_session_consume_stream(session, stream_id, len);  /* nobody wants it */
        return 0;
    }
    if (s->body_pos == s->body.len) s->body_pos = s->body.len = 0;
    if (tp_buf_append(&s->body, data, len) != 0) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *ud) {
    tp_h2 *h = ud;
    tp_h2_stream *s = stream_of(h, stream_id);
    if (!s) return 0;
    s->closed = 1;
    s->close_error = error_code;
    nghttp2_session_set_stream_user_data(session, stream_id, NULL);
    return 0;
}

static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *ud) {
    tp_h2 *h = ud;
    if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
        !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    tp_h2_stream *s = stream_of(h, frame->hd.stream_id);
    if (!s) return 0;
    s->ex.stats.end_ns = uv_hrtime();
    /* RFC 9113 §8.1: the response is complete while the request is not — stop it. */
    if (!s->req_eof) nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_NO_ERROR);
    return 0;
}

static ssize_t read_body(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                         uint32_t *data_flags, nghttp2_data_source *source, void *ud) {
    (void)session; (void)stream_id; (void)ud;
    tp_h2_stream *s = source->ptr;
    size_t avail = s->out.len - s->out_pos;
    if (avail == 0) {
        if (s->out_eof) { *data_flags |= NGHTTP2_DATA_FLAG_EOF; return 0; }
        s->deferred = 1;
        return NGHTTP2_ERR_DEFERRED;
    }
    size_t n = avail < length ? avail : length;
    memcpy(buf, s->out.data + s->out_pos, n);
    s->out_pos += n;
    if (s->out_pos == s->out.len) {
        s->out_pos = s->out.len = 0;
        if (s->out_eof) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    }
    return (ssize_t)n;
}

/* ---- the connection ---- */

int tp_h2_start(tp_conn *c) {
    tp_worker *w = c->worker;
    tp_h2 *h = calloc(1, sizeof *h);
    if (!h) return -1;
    h->conn = c;
    h->header_limit = w->opt.limits.max_head_bytes;
    tp_list_init(&h->streams);
    nghttp2_session_callbacks *cb;
    if (nghttp2_session_callbacks_new(&cb) != 0) { free(h); return -1; }
    nghttp2_session_callbacks_set_send_callback(cb, on_send);
    nghttp2_session_callbacks_set_on_begin_frame_callback(cb, on_begin_frame);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    nghttp2_option *opt;
    if (nghttp2_option_new(&opt) != 0) { nghttp2_session_callbacks_del(cb); free(h); return -1; }
    nghttp2_option_set_no_auto_window_update(opt, 1);  /* windows reopen as bodies leave */
    nghttp2_option_set_max_settings(opt, 32);
    nghttp2_option_set_max_outbound_ack(opt, 1000);    /* unread PING/SETTINGS ACKs */
    nghttp2_option_set_max_deflate_dynamic_table_size(opt, 4096);
    int r = nghttp2_session_server_new2(&h->session, cb, h, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cb);
    if (r != 0) { free(h); return -1; }
    uint32_t streams = w->opt.h2_max_concurrent_streams ? w->opt.h2_max_concurrent_streams : H2_DEFAULT_STREAMS;
    uint32_t window = w->opt.h2_initial_window_size ? w->opt.h2_initial_window_size : H2_DEFAULT_WINDOW;
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, window},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, h->header_limit},
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
    };
    nghttp2_submit_settings(h->session, NGHTTP2_FLAG_NONE, settings, sizeof settings / sizeof settings[0]);
    nghttp2_session_set_local_window_size(h->session, NGHTTP2_FLAG_NONE, 0, H2_CONN_WINDOW);
    c->h2 = h;
    c->info.http2 = 1;
    return 0;
}

uint32_t tp_h2_open_streams(const tp_conn *c) { return c->h2 ? c->h2->open_streams : 0; }

void tp_h2_flush_pending(tp_worker *w) {
    /* A few passes: progress made while flushing (Swift answering, streams ending) may
     * gather more output; whatever is left waits for the next iteration's prepare. */
    for (int pass = 0; pass < 8 && !tp_list_empty(&w->h2_flush); pass++) {
        tp_link batch;
        tp_list_init(&batch);
        /* Move the list aside: connections gathering output meanwhile join the next pass. */
        batch.next = w->h2_flush.next;
        batch.prev = w->h2_flush.prev;
        batch.next->prev = &batch;
        batch.prev->next = &batch;
        tp_list_init(&w->h2_flush);
        while (!tp_list_empty(&batch)) {
            tp_link *l = batch.next;
            tp_list_remove(l);
            tp_conn *c = TP_CONTAINER(l, tp_conn, h2_flush_link);
            if (c->closing || !c->h2) continue;
            c->h2->flush_now = 1;
            tp_conn_progress(c);
            if (c->h2) c->h2->flush_now = 0;
        }
        tp_worker_flush_dirty(w);
    }
}

void tp_h2_sweep(tp_conn *c, uint64_t now) {
    tp_h2 *h = c->h2;
    for (tp_link *l = h->streams.next; l != &h->streams; l = l->next) {
        tp_h2_stream *s = TP_CONTAINER(l, tp_h2_stream, link);
        /* A body that trickles in slower than the header timeout holds a stream and a
         * Swift exchange: the stream is reset, as HTTP/1.1 closes the connection. */
        if (!s->closed && s->ex.body_reading && s->body_deadline_ns && now >= s->body_deadline_ns) {
            s->body_deadline_ns = 0;
            s->ex.body_reading = 0;
            tp_h2_abort(&s->ex);
        }
    }
}

static void free_stream(tp_h2_stream *s) {
    tp_list_remove(&s->link);
    s->h2->open_streams--;
    tp_buf_free(&s->hdr);
    tp_buf_free(&s->body);
    tp_buf_free(&s->out);
    tp_buf_free(&s->ex.up_head);
    tp_buf_free(&s->ex.client_head);
    tp_buf_free(&s->ex.body_buf);
    free(s);
}

/* Ends the stream's exchange (if Swift was given one) and frees the stream. */
static void finish_stream(tp_h2_stream *s, int aborted) {
    tp_exchange *ex = &s->ex;
    tp_worker *w = s->h2->conn->worker;
    if (ex->state != TP_EX_NONE) {
        if (ex->up) tp_up_detach(ex, 0);
        if (aborted || !ex->response_complete || s->out.len > s->out_pos || s->close_error != NGHTTP2_NO_ERROR)
            ex->stats.aborted = 1;
        if (ex->stats.end_ns == 0) ex->stats.end_ns = uv_hrtime();
        ex->state = TP_EX_NONE;
        if (w->cb.on_exchange_end) w->cb.on_exchange_end(w->ctx, ex, &ex->stats);
    }
    free_stream(s);
}

void tp_h2_close(tp_conn *c) {
    tp_h2 *h = c->h2;
    if (!h) return;
    while (!tp_list_empty(&h->streams)) {
        tp_h2_stream *s = TP_CONTAINER(h->streams.next, tp_h2_stream, link);
        if (h->session && !s->closed) nghttp2_session_set_stream_user_data(h->session, s->id, NULL);
        finish_stream(s, 1);
    }
}

void tp_h2_free(tp_conn *c) {
    tp_h2 *h = c->h2;
    if (!h) return;
    tp_h2_close(c);
    nghttp2_session_del(h->session);
    tp_buf_free(&h->out);
    tp_buf_free(&h->scratch);
    free(h);
    c->h2 = NULL;
}

/* Gathers nghttp2's output and writes it, while the socket keeps up. */
static void flush(tp_h2 *h) {
    tp_conn *c = h->conn;
    while (!c->closing && tp_conn_write_queue(c) <= TP_HIGH_WATER) {
        int r = nghttp2_session_send(h->session);
        if (r != 0) { h->failed = 1; }
        if (h->out.len == 0) break;
        uv_buf_t b = uv_buf_init((char *)h->out.data, (unsigned)h->out.len);
        h->out.len = 0;
        if (tp_conn_write(c, &b, 1) != 0) return;  /* closed */
        if (r != 0) break;
    }
}

/* ---- requests ---- */

static tp_slice slice_of(tp_h2_stream *s, uint32_t off, uint32_t len) {
    tp_slice v = {s->hdr.data + off, len};
    return v;
}

/* Answers a stream the gateway refuses before Swift sees it (no exchange is begun). */
static void reject(tp_h2_stream *s, uint16_t status) {
    tp_h2 *h = s->h2;
    char id[17], msg[96], st[4], len[8];
    tp_worker_request_id(h->conn->worker, id);
    const char *reason = tp_status_reason(status);
    int blen = snprintf(msg, sizeof msg, "{\"message\":\"%s\"}", reason);
    snprintf(st, sizeof st, "%u", status);
    snprintf(len, sizeof len, "%d", blen);
    s->out.len = s->out_pos = 0;
    tp_buf_append(&s->out, msg, (size_t)blen);
    s->out_eof = 1;
    s->ex.response_complete = 1;
    nghttp2_nv nv[] = {
        {(uint8_t *)":status", (uint8_t *)st, 7, strlen(st), NGHTTP2_NV_FLAG_NONE},
        {(uint8_t *)"content-type", (uint8_t *)"application/json", 12, 16, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t *)"apigw-requestid", (uint8_t *)id, 15, strlen(id), NGHTTP2_NV_FLAG_NONE},
        {(uint8_t *)"content-length", (uint8_t *)len, 14, strlen(len), NGHTTP2_NV_FLAG_NONE},
    };
    nghttp2_data_provider prd = {.source.ptr = s, .read_callback = read_body};
    nghttp2_submit_response(h->session, s->id, nv, 4, &prd);
    s->submitted = 1;
}

static int target_ok(const uint8_t *p, size_t n, int is_options) {
    if (n == 0) return 0;
    if (n == 1 && p[0] == '*') return is_options;
    if (p[0] != '/') return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] <= 0x20 || p[i] == 0x7f) return 0;
    return 1;
}

/* Builds the request head Swift sees; 0, or the status to refuse with. */
static uint16_t build_head(tp_h2_stream *s, tp_request_head *out) {
    if (s->too_large) return 431;
    if (s->bad || !s->has_pseudo[P_METHOD] || !s->has_pseudo[P_PATH]) return 400;
    /* Several cookie fields become one (RFC 9113 §8.2.3): appended, then pointed at. */
    uint32_t cookies = 0, first = 0;
    for (uint32_t i = 0; i < s->field_count; i++) {
        h2_field *f = &s->fields[i];
        if (name_is(s->hdr.data + f->name_off, f->name_len, "cookie")) {
            if (cookies++ == 0) first = i;
        }
    }
    if (cookies > 1) {
        uint32_t off = (uint32_t)s->hdr.len, len = 0;
        for (uint32_t i = 0; i < s->field_count; i++) {
            h2_field *f = &s->fields[i];
            if (!name_is(s->hdr.data + f->name_off, f->name_len, "cookie")) continue;
            if (len && tp_buf_append(&s->hdr, "; ", 2) != 0) return 400;
            if (tp_buf_append(&s->hdr, s->hdr.data + f->value_off, f->value_len) != 0) return 400;
            len = (uint32_t)s->hdr.len - off;
            if (i != first) f->name_len = 0;  /* dropped below */
        }
        s->fields[first].value_off = off;
        s->fields[first].value_len = len;
    }
    memset(out, 0, offsetof(tp_request_head, headers));
    out->method = slice_of(s, s->pseudo[P_METHOD].value_off, s->pseudo[P_METHOD].value_len);
    out->target = slice_of(s, s->pseudo[P_PATH].value_off, s->pseudo[P_PATH].value_len);
    int is_options = out->method.len == 7 && memcmp(out->method.ptr, "OPTIONS", 7) == 0;
    if (!target_ok(out->target.ptr, out->target.len, is_options)) return 400;
    out->path = out->target;
    const uint8_t *q = memchr(out->target.ptr, '?', out->target.len);
    if (q) {
        out->path.len = (uint32_t)(q - out->target.ptr);
        out->has_query = 1;
        out->query.ptr = q + 1;
        out->query.len = out->target.len - out->path.len - 1;
    }
    out->content_length = -1;
    out->version_minor = 1;
    out->keep_alive = 1;
    int has_host = 0;
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->field_count; i++) {
        h2_field *f = &s->fields[i];
        if (f->name_len == 0) continue;
        tp_header *hf = &out->headers[n++];
        hf->name = slice_of(s, f->name_off, f->name_len);
        hf->value = slice_of(s, f->value_off, f->value_len);
        if (name_is(hf->name.ptr, hf->name.len, "host")) {
            if (has_host++) return 400;
            out->host = hf->value;
        } else if (name_is(hf->name.ptr, hf->name.len, "content-length")) {
            int64_t v = 0;
            if (hf->value.len == 0 || hf->value.len > 18) return 400;
            for (uint32_t k = 0; k < hf->value.len; k++) {
                uint8_t d = hf->value.ptr[k];
                if (d < '0' || d > '9') return 400;
                v = v * 10 + (d - '0');
            }
            if (out->content_length >= 0 && out->content_length != v) return 400;
            out->content_length = v;
        }
    }
    if (s->has_pseudo[P_AUTHORITY]) {
        out->host = slice_of(s, s->pseudo[P_AUTHORITY].value_off, s->pseudo[P_AUTHORITY].value_len);
        if (!has_host) {
            /* Backends (and Lambda events) expect a Host field as HTTP/1.1 gives it. */
            tp_header *hf = &out->headers[n++];
            static const uint8_t host[] = "host";
            hf->name.ptr = host;
            hf->name.len = 4;
            hf->value = out->host;
        }
    }
    if (out->host.len == 0) return 400;
    out->header_count = n;
    return 0;
}

static void dispatch(tp_h2_stream *s) {
    tp_h2 *h = s->h2;
    tp_conn *c = h->conn;
    tp_worker *w = c->worker;
    tp_exchange *ex = &s->ex;
    s->dispatched = 1;
    ex->stats.start_ns = uv_hrtime();
    tp_request_head *rh = &w->req_head;
    uint16_t status = build_head(s, rh);
    if (status) { reject(s, status); return; }
    ex->is_head = rh->method.len == 4 && memcmp(rh->method.ptr, "HEAD", 4) == 0;
    ex->client_minor = 1;
    if (s->req_eof && s->body.len == s->body_pos) {
        ex->req_mode = TP_BODY_NONE;
        ex->req_done = ex->req_forward_done = 1;
    } else if (rh->content_length >= 0) {
        ex->req_mode = rh->content_length ? TP_BODY_LENGTH : TP_BODY_NONE;
        ex->req_remaining = (uint64_t)rh->content_length;
        if (rh->content_length == 0) ex->req_done = ex->req_forward_done = 1;
    } else {
        ex->req_mode = TP_BODY_CHUNKED;  /* forwarded upstream as chunks */
    }
    ex->state = TP_EX_DISPATCHED;
    w->cb.on_request(w->ctx, ex, rh, &c->info);
    c->info.request_index++;
}

/* After a local answer: the body nobody will read goes, and its window reopens. */
static void discard_body(tp_h2_stream *s) {
    size_t n = s->body.len - s->body_pos;
    if (n) nghttp2_session_consume_stream(s->h2->session, s->id, n);
    s->body.len = s->body_pos = 0;
    if (s->req_eof) s->ex.req_done = 1;
}

void tp_h2_progress(tp_conn *c) {
    tp_h2 *h = c->h2;
    tp_worker *w = c->worker;
    if (c->closing) return;
    if (c->rpos < c->rlen && !h->calm_down && !h->failed) {
        ssize_t n = nghttp2_session_mem_recv(h->session, c->rbuf + c->rpos, c->rlen - c->rpos);
        if (n < 0) {
            /* A connection error: nghttp2 has queued GOAWAY where it could; send it. */
            h->failed = 1;
            c->rpos = c->rlen;
        } else {
            c->rpos += (size_t)n;
        }
        if (c->rpos == c->rlen) c->rpos = c->rlen = 0;
    }
    if (h->failed || h->calm_down) c->rpos = c->rlen = 0;  /* no further input is read */
    for (tp_link *l = h->streams.next; l != &h->streams && !c->closing;) {
        tp_h2_stream *s = TP_CONTAINER(l, tp_h2_stream, link);
        l = l->next;
        if (s->closed) continue;
        if (!s->dispatched) {
            if (s->ready && !h->failed && !h->calm_down) dispatch(s);
            continue;
        }
        tp_exchange *ex = &s->ex;
        if (ex->state == TP_EX_PROXYING && ex->pending_error) {
            tp_upstream_error kind = (tp_upstream_error)ex->pending_error;
            ex->pending_error = 0;
            tp_ex_upstream_failed(ex, kind);
        }
        if (c->closing) return;
        if (ex->state == TP_EX_DISPATCHED && ex->body_reading) {
            if (!s->body_deadline_ns)
                s->body_deadline_ns = tp_loop_ns(w) + (uint64_t)w->opt.header_timeout_ms * 1000000ull;
            tp_ex_buffer_body_h2(ex);
        }
        else if (ex->state == TP_EX_PROXYING && ex->up) tp_up_pump_body(ex);
        else if (ex->response_complete && !ex->req_done) discard_body(s);
    }
    if (c->closing) return;
    /* Output is written once per loop iteration (the prepare phase, before polling), so
     * responses finishing in the same iteration share one TLS record and one write. */
    if (h->flush_now || h->failed || h->calm_down || w->draining) {
        flush(h);
    } else if (nghttp2_session_want_write(h->session) && c->h2_flush_link.next == NULL) {
        tp_list_append(&w->h2_flush, &c->h2_flush_link);
    }
    if (c->closing) return;
    for (tp_link *l = h->streams.next; l != &h->streams;) {
        tp_h2_stream *s = TP_CONTAINER(l, tp_h2_stream, link);
        l = l->next;
        if (s->closed) { finish_stream(s, 0); continue; }
        if (s->ex.state == TP_EX_PROXYING && s->ex.up) tp_up_client_drained(&s->ex);
    }
    if (c->closing) return;
    if (w->draining && !h->goaway_sent) {
        nghttp2_submit_goaway(h->session, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(h->session),
                              NGHTTP2_NO_ERROR, NULL, 0);
        h->goaway_sent = 1;
        flush(h);
        if (c->closing) return;
    }
    int done = h->failed || (h->goaway_sent && h->open_streams == 0) ||
               (!nghttp2_session_want_read(h->session) && !nghttp2_session_want_write(h->session)) ||
               (c->peer_eof && h->open_streams == 0);
    if (done) {
        if (h->calm_down && h->open_streams) {
            /* Streams of a flooding client are not waited for. */
            tp_h2_close(c);
        }
        if (c->pending_writes == 0 || h->failed || h->calm_down) {
            if (c->pending_writes == 0) tp_conn_close(c);
            else c->deadline_ns = tp_loop_ns(w) + (uint64_t)TP_LINGER_MS * 1000000ull;
        }
        return;
    }
    c->deadline_ns = h->open_streams ? 0 : tp_loop_ns(w) + (uint64_t)w->opt.keepalive_timeout_ms * 1000000ull;
    if (tp_conn_write_queue(c) <= H2_READ_PAUSE) tp_conn_ensure_reading(c);
}

/* ---- responses ---- */

static int hop_by_hop(const uint8_t *n, size_t len) {
    return name_is(n, len, "connection") || name_is(n, len, "keep-alive") ||
           name_is(n, len, "proxy-connection") || name_is(n, len, "transfer-encoding") ||
           name_is(n, len, "upgrade") || name_is(n, len, "content-length");
}

/* Submits HEADERS for an HTTP/1.1-style head (status line + fields): names lower-cased,
 * connection-specific fields dropped, content-length as the shim knows it. */
static int submit_head(tp_h2_stream *s, const uint8_t *head, size_t head_len, int64_t content_length,
                       int with_body) {
    tp_h2 *h = s->h2;
    tp_buf *b = &h->scratch;
    b->len = 0;
    if (tp_buf_reserve(b, head_len + 64) != 0) return -1;
    memcpy(b->data, head, head_len);
    b->len = head_len;
    uint8_t *p = b->data, *end = b->data + head_len;
    nghttp2_nv nv[TP_MAX_HEADERS + 2];
    size_t count = 0;
    char status[4] = "502";
    uint16_t st = tp_head_status(head, head_len);
    if (st >= 100 && st <= 999) { status[0] = (char)('0' + st / 100); status[1] = (char)('0' + st / 10 % 10); status[2] = (char)('0' + st % 10); }
    nv[count++] = (nghttp2_nv){(uint8_t *)":status", (uint8_t *)status, 7, 3, NGHTTP2_NV_FLAG_NONE};
    uint8_t *line_end = memchr(p, '\n', (size_t)(end - p));
    p = line_end ? line_end + 1 : end;
    while (p < end && count < TP_MAX_HEADERS) {
        uint8_t *eol = memchr(p, '\n', (size_t)(end - p));
        uint8_t *stop = eol ? eol : end;
        uint8_t *lend = stop > p && stop[-1] == '\r' ? stop - 1 : stop;
        uint8_t *colon = memchr(p, ':', (size_t)(lend - p));
        if (colon && colon > p) {
            for (uint8_t *q = p; q < colon; q++) if (*q >= 'A' && *q <= 'Z') *q = (uint8_t)(*q + 32);
            uint8_t *v = colon + 1;
            while (v < lend && (*v == ' ' || *v == '\t')) v++;
            if (!hop_by_hop(p, (size_t)(colon - p)))
                nv[count++] = (nghttp2_nv){p, v, (size_t)(colon - p), (size_t)(lend - v), NGHTTP2_NV_FLAG_NONE};
        }
        p = eol ? eol + 1 : end;
    }
    char cl[24];
    if (content_length >= 0 && st >= 200 && st != 204 && st != 304) {
        size_t n = (size_t)(tp_put_u64(cl, (uint64_t)content_length) - cl);
        nv[count++] = (nghttp2_nv){(uint8_t *)"content-length", (uint8_t *)cl, 14, n, NGHTTP2_NV_FLAG_NONE};
    }
    nghttp2_data_provider prd = {.source.ptr = s, .read_callback = read_body};
    int r = nghttp2_submit_response(h->session, s->id, nv, count, with_body ? &prd : NULL);
    s->submitted = 1;
    return r == 0 ? 0 : -1;
}

int tp_h2_respond(tp_exchange *ex, const uint8_t *head, size_t head_len, const uint8_t *body, size_t body_len) {
    tp_h2_stream *s = ex->h2s;
    uint16_t st = tp_head_status(head, head_len);
    if (st < 200 || st == 204 || st == 304) body_len = 0;
    int with_body = body_len > 0 && !ex->is_head;
    s->out.len = s->out_pos = 0;
    if (with_body && tp_buf_append(&s->out, body, body_len) != 0) return -1;
    s->out_eof = 1;
    return submit_head(s, head, head_len, (int64_t)body_len, with_body);
}

int tp_h2_submit_head(tp_exchange *ex, int64_t content_length, int end_stream) {
    tp_h2_stream *s = ex->h2s;
    return submit_head(s, ex->client_head.data, ex->client_head.len, content_length, !end_stream && !ex->is_head);
}

int tp_h2_write_body(tp_exchange *ex, const uv_buf_t *bufs, unsigned n) {
    tp_h2_stream *s = ex->h2s;
    if (s->closed) return 0;
    if (s->out_pos == s->out.len) s->out_pos = s->out.len = 0;
    for (unsigned i = 0; i < n; i++)
        if (bufs[i].len && tp_buf_append(&s->out, bufs[i].base, bufs[i].len) != 0) return -1;
    if (s->deferred) {
        s->deferred = 0;
        nghttp2_session_resume_data(s->h2->session, s->id);
    }
    tp_conn_mark_dirty(ex->conn);
    return 0;
}

void tp_h2_finish(tp_exchange *ex) {
    tp_h2_stream *s = ex->h2s;
    s->out_eof = 1;
    if (s->deferred && !s->closed) {
        s->deferred = 0;
        nghttp2_session_resume_data(s->h2->session, s->id);
    }
}

size_t tp_h2_queued(const tp_exchange *ex) { return ex->h2s->out.len - ex->h2s->out_pos; }

size_t tp_h2_body_peek(tp_exchange *ex, const uint8_t **data) {
    tp_h2_stream *s = ex->h2s;
    *data = s->body.data + s->body_pos;
    return s->body.len - s->body_pos;
}

void tp_h2_body_consume(tp_exchange *ex, size_t n) {
    tp_h2_stream *s = ex->h2s;
    s->body_pos += n;
    if (!s->closed) nghttp2_session_consume_stream(s->h2->session, s->id, n);
}

int tp_h2_body_eof(const tp_exchange *ex) { return ex->h2s->req_eof; }

void tp_h2_abort(tp_exchange *ex) {
    tp_h2_stream *s = ex->h2s;
    ex->stats.aborted = 1;
    ex->response_complete = 1;
    if (ex->up) tp_up_detach(ex, 0);
    if (!s->closed) nghttp2_submit_rst_stream(s->h2->session, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_INTERNAL_ERROR);
    tp_conn_mark_dirty(ex->conn);
}
