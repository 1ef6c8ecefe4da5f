/* HTTP/1.1 for the load generator: prebuilt requests per connection, pipelined in
 * order, responses read with the shim's own parser (tp_http1_parse_response,
 * tp_chunked_decode) and counted without copying bodies. */
#include "bench_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TPB_MAX_CARRY 65536

static int append_str(tp_buf *b, const char *s) { return tp_buf_append(b, s, strlen(s)); }

int tpb_h1_build(tpb_worker *w, tpb_conn *c, const tpb_config *cfg, const char *vary_value) {
    c->wire = calloc(cfg->request_count, sizeof *c->wire);
    c->fifo = calloc(cfg->pipeline ? cfg->pipeline : 1, sizeof *c->fifo);
    if (!c->wire || !c->fifo) return -1;
    for (uint32_t k = 0; k < cfg->request_count; k++) {
        const tpb_request *r = &cfg->requests[k];
        tp_buf *b = &c->wire[k];
        int e = 0;
        e |= append_str(b, r->method);
        e |= append_str(b, " ");
        e |= append_str(b, r->path);
        e |= append_str(b, " HTTP/1.1\r\nHost: ");
        e |= append_str(b, cfg->authority);
        e |= append_str(b, "\r\n");
        for (uint32_t h = 0; h < r->header_count; h++) {
            e |= append_str(b, r->headers[h].name);
            e |= append_str(b, ": ");
            e |= append_str(b, r->headers[h].value);
            e |= append_str(b, "\r\n");
        }
        if (vary_value && cfg->vary_name) {
            e |= append_str(b, cfg->vary_name);
            e |= append_str(b, ": ");
            e |= append_str(b, vary_value);
            e |= append_str(b, "\r\n");
        }
        if (r->body_len || strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0 ||
            strcmp(r->method, "PATCH") == 0) {
            char cl[48];
            snprintf(cl, sizeof cl, "Content-Length: %u\r\n", r->body_len);
            e |= append_str(b, cl);
        }
        e |= append_str(b, "\r\n");
        if (r->body_len) e |= tp_buf_append(b, r->body, r->body_len);
        if (e) return -1;
    }
    (void)w;
    return 0;
}

void tpb_h1_issue(tpb_conn *c, uint32_t kind, uint64_t intended, uint8_t counted, uint64_t now) {
    uint32_t cap = c->w->cfg.pipeline;
    tpb_flight *f = &c->fifo[(c->fifo_head + c->fifo_len) % cap];
    f->intended_ns = intended;
    f->sent_ns = now;
    f->kind = kind;
    f->counted = counted;
    c->fifo_len++;
    tpb_conn_send(c, c->wire[kind].data, c->wire[kind].len);
}

static void complete_front(tpb_conn *c) {
    tpb_flight f = c->fifo[c->fifo_head];
    c->fifo_head = (c->fifo_head + 1) % c->w->cfg.pipeline;
    c->fifo_len--;
    c->h1_state = TPB_H1_HEAD;
    if (!c->keep_alive) c->close_after = 1;
    tpb_complete(c, &f, c->status);
}

void tpb_h1_fail_all(tpb_conn *c, int error_kind) {
    while (c->fifo_len) {
        tpb_flight f = c->fifo[c->fifo_head];
        c->fifo_head = (c->fifo_head + 1) % c->w->cfg.pipeline;
        c->fifo_len--;
        tpb_fail(c, &f, error_kind);
    }
    c->h1_state = TPB_H1_HEAD;
}

void tpb_h1_refund_all(tpb_conn *c) {
    while (c->fifo_len) {
        tpb_flight f = c->fifo[c->fifo_head];
        c->fifo_head = (c->fifo_head + 1) % c->w->cfg.pipeline;
        c->fifo_len--;
        tpb_refund(c, &f);
    }
}

uint64_t tpb_h1_oldest_sent(const tpb_conn *c) { return c->fifo_len ? c->fifo[c->fifo_head].sent_ns : 0; }

/* A head is complete: decide how its body is framed. Returns -1 on a response the
 * generator cannot follow (101 Switching Protocols). */
static int on_head(tpb_conn *c, const tp_response_head *h) {
    if (h->status >= 100 && h->status < 200) return h->status == 101 ? -1 : 0; /* interim */
    c->status = h->status;
    c->keep_alive = h->keep_alive;
    uint32_t kind = c->fifo[c->fifo_head].kind;
    if (c->w->kinds[kind].is_head || h->status == 204 || h->status == 304) {
        complete_front(c);
    } else if (h->chunked) {
        tp_chunked_init(&c->chunk);
        c->h1_state = TPB_H1_CHUNKED;
    } else if (h->content_length >= 0) {
        c->body_left = (uint64_t)h->content_length;
        if (c->body_left == 0) complete_front(c);
        else c->h1_state = TPB_H1_BODY;
    } else {
        c->keep_alive = 0;
        c->h1_state = TPB_H1_UNTIL_CLOSE;
    }
    return 0;
}

int tpb_h1_consume(tpb_conn *c, const uint8_t *p, size_t n) {
    tpb_worker *w = c->w;
    while (n > 0 && !c->close_after) {
        switch (c->h1_state) {
        case TPB_H1_HEAD: {
            if (c->fifo_len == 0) return -1; /* a response nobody asked for */
            const uint8_t *buf = p;
            size_t len = n, old = c->carry.len, head_len = 0;
            if (old) {
                size_t take = n;
                if (old + take > TPB_MAX_CARRY) take = TPB_MAX_CARRY - old;
                if (tp_buf_append(&c->carry, p, take) != 0) return -1;
                buf = c->carry.data;
                len = c->carry.len;
            }
            tp_parse_result r = tp_http1_parse_response(buf, len, &w->limits, &w->head, &head_len);
            if (r == TP_PARSE_ERROR) return -1;
            if (r == TP_PARSE_NEED_MORE) {
                if (!old && tp_buf_append(&c->carry, p, n) != 0) return -1;
                if (c->carry.len >= TPB_MAX_CARRY) return -1;
                return 0;
            }
            size_t used = old ? head_len - old : head_len;
            c->carry.len = 0;
            p += used;
            n -= used;
            if (on_head(c, &w->head) != 0) return -1;
            break;
        }
        case TPB_H1_BODY: {
            size_t take = n < c->body_left ? n : (size_t)c->body_left;
            p += take;
            n -= take;
            c->body_left -= take;
            if (c->body_left == 0) complete_front(c);
            break;
        }
        case TPB_H1_CHUNKED: {
            size_t consumed = 0, data_len = 0;
            const uint8_t *data = NULL;
            tp_chunk_result r = tp_chunked_decode(&c->chunk, p, n, &consumed, &data, &data_len);
            p += consumed;
            n -= consumed;
            if (r == TP_CHUNK_ERROR) return -1;
            if (r == TP_CHUNK_DONE) complete_front(c);
            break;
        }
        case TPB_H1_UNTIL_CLOSE:
            n = 0;
            break;
        }
    }
    return 0;
}

int tpb_h1_eof(tpb_conn *c) {
    if (c->h1_state != TPB_H1_UNTIL_CLOSE || c->fifo_len == 0) return 0;
    complete_front(c);
    return 1;
}
