/* HTTP/2 for the load generator: one nghttp2 client session per connection, header
 * blocks prebuilt per connection and kind, a fixed table of stream slots (the stream's
 * user data), output drained with nghttp2_session_mem_send into the connection. */
#include "bench_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_n(const char *s, size_t n, int lower) {
    char *d = malloc(n + 1);
    if (!d) return NULL;
    for (size_t i = 0; i < n; i++) d[i] = lower ? (char)tolower((unsigned char)s[i]) : s[i];
    d[n] = 0;
    return d;
}

static int add_nv(nghttp2_nv *nv, size_t *len, const char *name, const char *value, int lower) {
    nghttp2_nv *x = &nv[(*len)++];
    x->name = (uint8_t *)dup_n(name, strlen(name), lower);
    x->value = (uint8_t *)dup_n(value, strlen(value), 0);
    if (!x->name || !x->value) return -1;
    x->namelen = strlen((char *)x->name);
    x->valuelen = strlen((char *)x->value);
    x->flags = NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE;
    return 0;
}

int tpb_h2_build(tpb_worker *w, tpb_conn *c, const tpb_config *cfg, const char *vary_value) {
    (void)w;
    c->nva = calloc(cfg->request_count, sizeof *c->nva);
    c->nv_len = calloc(cfg->request_count, sizeof *c->nv_len);
    c->slots = calloc(cfg->streams ? cfg->streams : 1, sizeof *c->slots);
    if (!c->nva || !c->nv_len || !c->slots) return -1;
    for (uint32_t k = 0; k < cfg->request_count; k++) {
        const tpb_request *r = &cfg->requests[k];
        nghttp2_nv *nv = calloc(6 + r->header_count, sizeof *nv);
        if (!nv) return -1;
        c->nva[k] = nv;
        size_t *n = &c->nv_len[k];
        int e = 0;
        e |= add_nv(nv, n, ":method", r->method, 0);
        e |= add_nv(nv, n, ":scheme", cfg->tls ? "https" : "http", 0);
        e |= add_nv(nv, n, ":authority", cfg->authority, 0);
        e |= add_nv(nv, n, ":path", r->path, 0);
        for (uint32_t h = 0; h < r->header_count; h++) e |= add_nv(nv, n, r->headers[h].name, r->headers[h].value, 1);
        if (vary_value && cfg->vary_name) e |= add_nv(nv, n, cfg->vary_name, vary_value, 1);
        if (r->body_len) {
            char cl[24];
            snprintf(cl, sizeof cl, "%u", r->body_len);
            e |= add_nv(nv, n, "content-length", cl, 0);
        }
        if (e) return -1;
    }
    return 0;
}

static ssize_t read_body(nghttp2_session *s, int32_t stream_id, uint8_t *buf, size_t length, uint32_t *flags,
                         nghttp2_data_source *source, void *user_data) {
    (void)s;
    (void)stream_id;
    tpb_conn *c = user_data;
    tpb_stream *slot = source->ptr;
    const tpb_kind *k = &c->w->kinds[slot->flight.kind];
    size_t left = k->body_len - slot->body_off;
    size_t n = left < length ? left : length;
    memcpy(buf, k->body + slot->body_off, n);
    slot->body_off += (uint32_t)n;
    if (slot->body_off == k->body_len) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data) {
    (void)flags;
    (void)user_data;
    if (frame->hd.type != NGHTTP2_HEADERS || namelen != 7 || memcmp(name, ":status", 7) != 0 || valuelen != 3)
        return 0;
    tpb_stream *slot = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
    if (slot) slot->status = (uint16_t)((value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0'));
    return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t stream_id, uint32_t error_code, void *user_data) {
    tpb_conn *c = user_data;
    tpb_stream *slot = nghttp2_session_get_stream_user_data(s, stream_id);
    if (!slot || !slot->used) return 0;
    slot->used = 0;
    if (error_code == NGHTTP2_NO_ERROR && slot->status >= 200) tpb_complete(c, &slot->flight, slot->status);
    else if (error_code == NGHTTP2_REFUSED_STREAM && slot->status == 0) tpb_refund(c, &slot->flight); /* GOAWAY */
    else tpb_fail(c, &slot->flight, TPB_ERR_PROTOCOL);
    return 0;
}

int tpb_h2_start(tpb_conn *c) {
    nghttp2_session_callbacks *cb;
    if (nghttp2_session_callbacks_new(&cb) != 0) return -1;
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    int r = nghttp2_session_client_new(&c->h2, cb, c);
    nghttp2_session_callbacks_del(cb);
    if (r != 0) {
        c->h2 = NULL;
        return -1;
    }
    nghttp2_settings_entry iv[2] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, (1u << 30) - 1},
    };
    nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, 2);
    nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0, (1 << 30) - 1);
    for (uint32_t i = 0; i < c->w->cfg.streams; i++) c->slots[i].used = 0;
    return 0;
}

int tpb_h2_issue(tpb_conn *c, uint32_t kind, uint64_t intended, uint8_t counted, uint64_t now) {
    tpb_stream *slot = NULL;
    for (uint32_t i = 0; i < c->w->cfg.streams; i++)
        if (!c->slots[i].used) {
            slot = &c->slots[i];
            break;
        }
    tpb_flight f = {intended, now, kind, counted};
    if (!slot) {
        tpb_fail(c, &f, TPB_ERR_PROTOCOL);
        return -1;
    }
    slot->flight = f;
    slot->body_off = 0;
    slot->status = 0;
    slot->used = 1;
    nghttp2_data_provider prd;
    prd.source.ptr = slot;
    prd.read_callback = read_body;
    int32_t id = nghttp2_submit_request(c->h2, NULL, c->nva[kind], c->nv_len[kind],
                                        c->w->kinds[kind].body_len ? &prd : NULL, slot);
    if (id < 0) {
        slot->used = 0;
        tpb_fail(c, &f, TPB_ERR_PROTOCOL);
        return -1;
    }
    return 0;
}

int tpb_h2_consume(tpb_conn *c, const uint8_t *p, size_t n) {
    ssize_t r = nghttp2_session_mem_recv(c->h2, p, n);
    return r < 0 || (size_t)r != n ? -1 : 0;
}

int tpb_h2_pump(tpb_conn *c) {
    for (;;) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(c->h2, &data);
        if (n < 0) return -1;
        if (n == 0) return 0;
        tpb_conn_send(c, data, (size_t)n);
    }
}

int tpb_h2_alive(const tpb_conn *c) {
    return nghttp2_session_want_read(c->h2) || nghttp2_session_want_write(c->h2);
}

int tpb_h2_accepts(const tpb_conn *c) { return nghttp2_session_check_request_allowed(c->h2) != 0; }

void tpb_h2_end(tpb_conn *c, int error_kind) {
    if (!c->h2) return;
    for (uint32_t i = 0; i < c->w->cfg.streams; i++) {
        if (!c->slots[i].used) continue;
        c->slots[i].used = 0;
        tpb_fail(c, &c->slots[i].flight, error_kind);
    }
    nghttp2_session_del(c->h2);
    c->h2 = NULL;
}

uint64_t tpb_h2_oldest_sent(const tpb_conn *c) {
    uint64_t oldest = 0;
    for (uint32_t i = 0; i < c->w->cfg.streams; i++)
        if (c->slots[i].used && (!oldest || c->slots[i].flight.sent_ns < oldest)) oldest = c->slots[i].flight.sent_ns;
    return oldest;
}
