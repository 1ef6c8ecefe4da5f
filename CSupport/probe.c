/*
 * probe.c — active health checks: one fresh connection per probe, one request
 * (Connection: close), the status line read back, the result handed to Swift.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include "internal.h"

typedef struct {
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    uv_timer_t timer;
    tp_worker *worker;
    uint64_t token;
    uint8_t *request;
    size_t request_len;
    uint8_t buf[1024];
    size_t len;
    uint32_t pending_writes;
    uint8_t done;
    uint8_t handles_open;
    uint8_t sent;
    tp_tls_client *tls;    /* HTTPS endpoints are probed over TLS */
    SSL *ssl;
    BIO *rbio, *wbio;
} tp_probe;

static void probe_handle_closed(uv_handle_t *h) {
    tp_probe *p = h->data;
    if (--p->handles_open == 0) {
        p->worker->open_probes--;
        if (p->ssl) SSL_free(p->ssl);
        if (p->tls) tp_tls_client_release(p->tls);
        free(p->request);
        free(p);
    }
}

static void probe_finish(tp_probe *p, uint16_t status) {
    if (p->done) return;
    p->done = 1;
    tp_worker *w = p->worker;
    if (w->cb.on_probe_result) w->cb.on_probe_result(w->ctx, p->token, status);
    uv_close((uv_handle_t *)&p->tcp, probe_handle_closed);
    uv_close((uv_handle_t *)&p->timer, probe_handle_closed);
}

static void probe_written(void *owner, int status);

static void probe_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)suggested;
    tp_probe *p = h->data;
    if (p->ssl) {
        buf->base = (char *)p->worker->tls_in;
        buf->len = sizeof p->worker->tls_in;
        return;
    }
    buf->base = (char *)p->buf + p->len;
    buf->len = sizeof p->buf - p->len;
}

static int probe_flush_tls(tp_probe *p) {
    return tp_tls_send_output(p->wbio, (uv_stream_t *)&p->tcp, &p->pending_writes, probe_written, p);
}

/* TLS probes: handshake, then the request, then the response's plaintext into buf. */
static int probe_tls_step(tp_probe *p) {
    if (!SSL_is_init_finished(p->ssl)) {
        int r = SSL_do_handshake(p->ssl);
        if (probe_flush_tls(p) != 0) return -1;
        if (r != 1) {
            int e = SSL_get_error(p->ssl, r);
            return (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) ? 0 : -1;
        }
    }
    if (!p->sent) {
        p->sent = 1;
        if (SSL_write(p->ssl, p->request, (int)p->request_len) <= 0 || probe_flush_tls(p) != 0) return -1;
    }
    while (p->len < sizeof p->buf) {
        int n = SSL_read(p->ssl, p->buf + p->len, (int)(sizeof p->buf - p->len));
        if (n <= 0) break;
        p->len += (size_t)n;
    }
    return 0;
}

static void probe_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    tp_probe *p = s->data;
    if (p->done) return;
    if (nread > 0 && p->ssl) {
        BIO_write(p->rbio, buf->base, (int)nread);
        if (probe_tls_step(p) != 0) { probe_finish(p, 0); tp_worker_flush_dirty(p->worker); return; }
        if (!p->sent || p->len == 0) return;
    } else if (nread > 0) {
        p->len += (size_t)nread;
    }
    tp_response_head *h = &p->worker->resp_head;
    tp_parse_limits limits = {sizeof p->buf, sizeof p->buf};
    size_t hl;
    tp_parse_result r = tp_http1_parse_response(p->buf, p->len, &limits, h, &hl);
    if (r == TP_PARSE_DONE) probe_finish(p, h->status);
    else if (r == TP_PARSE_ERROR || nread < 0 || p->len == sizeof p->buf) probe_finish(p, 0);
    tp_worker_flush_dirty(p->worker);
}

static void probe_written(void *owner, int status) {
    tp_probe *p = owner;
    if (status < 0) probe_finish(p, 0);
}

static void probe_connected(uv_connect_t *req, int status) {
    tp_probe *p = req->data;
    if (p->done) return;
    if (status < 0) { probe_finish(p, 0); return; }
    uv_read_start((uv_stream_t *)&p->tcp, probe_alloc, probe_read);
    if (p->tls) {
        p->ssl = tp_tls_client_ssl(p->tls, &p->rbio, &p->wbio);
        if (!p->ssl || probe_tls_step(p) != 0) probe_finish(p, 0);
        return;
    }
    uv_buf_t b = uv_buf_init((char *)p->request, (unsigned)p->request_len);
    if (tp_stream_write((uv_stream_t *)&p->tcp, &b, 1, &p->pending_writes, probe_written, p) != 0)
        probe_finish(p, 0);
}

static void probe_timeout(uv_timer_t *t) {
    tp_probe *p = t->data;
    probe_finish(p, 0);
    tp_worker_flush_dirty(p->worker);
}

void tp_worker_probe(tp_worker *w, const tp_upstream_target *target,
                     const uint8_t *request, size_t request_len, uint64_t token) {
    tp_probe *p = calloc(1, sizeof *p);
    if (!p) { if (w->cb.on_probe_result) w->cb.on_probe_result(w->ctx, token, 0); return; }
    p->request = malloc(request_len);
    if (!p->request) { free(p); if (w->cb.on_probe_result) w->cb.on_probe_result(w->ctx, token, 0); return; }
    memcpy(p->request, request, request_len);
    p->request_len = request_len;
    p->worker = w;
    p->token = token;
    uv_tcp_init(&w->loop, &p->tcp);
    uv_timer_init(&w->loop, &p->timer);
    p->tcp.data = p;
    p->timer.data = p;
    p->connect_req.data = p;
    p->handles_open = 2;
    w->open_probes++;
    if (target->tls) {
        p->tls = target->tls;
        tp_tls_client_retain(p->tls);
    }
    uint32_t timeout = target->timeout_ms ? target->timeout_ms : 2000;
    uv_timer_start(&p->timer, probe_timeout, timeout, 0);
    if (uv_tcp_connect(&p->connect_req, &p->tcp, (const struct sockaddr *)target->addr,
                       probe_connected) != 0)
        probe_finish(p, 0);
}
