/*
 * worker.c — one uv_loop on one thread: listeners, the periodic sweep that enforces
 * every deadline, cross-thread wake-ups, drain and shutdown, upstream pools.
 *
 * Deadlines are checked by one sweep timer per worker rather than a uv_timer per
 * connection: re-arming a timer on every request costs more than scanning the
 * connection list ten times a second.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "internal.h"

#define TP_SWEEP_MS 100

uint64_t tp_now_ns(void) { return uv_hrtime(); }

uint64_t tp_worker_now_ns(const tp_worker *w) { return uv_now(&w->loop) * 1000000ull; }

static void on_async(uv_async_t *a) {
    tp_worker *w = a->data;
    if (w->cb.on_wakeup) w->cb.on_wakeup(w->ctx);
    tp_worker_flush_dirty(w);
}

static void on_tick(uv_timer_t *t) {
    tp_worker *w = t->data;
    if (w->cb.on_tick) w->cb.on_tick(w->ctx);
    tp_worker_flush_dirty(w);
}

static void close_noop(uv_handle_t *h) { (void)h; }

static void close_listener(uv_handle_t *h) { free(h); }

/* Closes every handle the worker owns so that uv_run returns. */
static void worker_shutdown(tp_worker *w) {
    for (tp_link *l = w->conns.next; l != &w->conns;) {
        tp_conn *c = TP_CONTAINER(l, tp_conn, link);
        l = l->next;
        tp_conn_close(c);
    }
    for (tp_link *l = w->ups.next; l != &w->ups;) {
        tp_up *u = TP_CONTAINER(l, tp_up, link);
        l = l->next;
        tp_up_close(u);
    }
    for (uint32_t i = 0; i < w->listener_count; i++) {
        if (w->listeners[i]) uv_close((uv_handle_t *)w->listeners[i], close_listener);
        w->listeners[i] = NULL;
    }
    if (!uv_is_closing((uv_handle_t *)&w->async)) uv_close((uv_handle_t *)&w->async, close_noop);
    if (!uv_is_closing((uv_handle_t *)&w->sweep_timer)) uv_close((uv_handle_t *)&w->sweep_timer, close_noop);
    if (!uv_is_closing((uv_handle_t *)&w->tick_timer)) uv_close((uv_handle_t *)&w->tick_timer, close_noop);
    if (!uv_is_closing((uv_handle_t *)&w->h2_prepare)) uv_close((uv_handle_t *)&w->h2_prepare, close_noop);
    if (!uv_is_closing((uv_handle_t *)&w->h2_idle)) uv_close((uv_handle_t *)&w->h2_idle, close_noop);
}

static void on_idle(uv_idle_t *i) { (void)i; }  /* its being active is what matters */

static void on_prepare(uv_prepare_t *p) {
    tp_worker *w = p->data;
    tp_up_flush_pending(w);
    tp_h2_flush_pending(w);
    if (tp_list_empty(&w->h2_flush)) uv_idle_stop(&w->h2_idle);
    else uv_idle_start(&w->h2_idle, on_idle);
}

static void on_sweep(uv_timer_t *t) {
    tp_worker *w = t->data;
    uint64_t now = tp_loop_ns(w);
    for (tp_link *l = w->conns.next; l != &w->conns;) {
        tp_conn *c = TP_CONTAINER(l, tp_conn, link);
        l = l->next;
        tp_conn_sweep(c, now);
    }
    for (tp_link *l = w->ups.next; l != &w->ups;) {
        tp_up *u = TP_CONTAINER(l, tp_up, link);
        l = l->next;
        tp_up_sweep(u, now);
    }
    tp_worker_flush_dirty(w);
    if (w->draining) {
        if (w->open_conns == 0 && w->open_probes == 0) worker_shutdown(w);
        else if (now >= w->drain_deadline_ns) worker_shutdown(w);
    }
}

tp_worker *tp_worker_create(uint32_t index, void *ctx, const tp_callbacks *callbacks,
                            const tp_worker_options *options) {
    signal(SIGPIPE, SIG_IGN);
    tp_worker *w = calloc(1, sizeof(tp_worker));
    if (!w) return NULL;
    if (uv_loop_init(&w->loop) != 0) { free(w); return NULL; }
    w->index = index;
    w->ctx = ctx;
    w->cb = *callbacks;
    w->opt = *options;
    if (w->opt.limits.max_head_bytes == 0) w->opt.limits.max_head_bytes = 32768;
    if (w->opt.limits.max_request_line == 0) w->opt.limits.max_request_line = 8192;
    tp_list_init(&w->conns);
    tp_list_init(&w->ups);
    tp_list_init(&w->dirty);
    tp_list_init(&w->h2_flush);
    tp_list_init(&w->up_flush);
    uv_async_init(&w->loop, &w->async, on_async);
    w->async.data = w;
    uv_timer_init(&w->loop, &w->sweep_timer);
    w->sweep_timer.data = w;
    uv_timer_init(&w->loop, &w->tick_timer);
    w->tick_timer.data = w;
    uv_idle_init(&w->loop, &w->h2_idle);
    uv_prepare_init(&w->loop, &w->h2_prepare);
    w->h2_prepare.data = w;
    uv_prepare_start(&w->h2_prepare, on_prepare);
    return w;
}

static void on_connection(uv_stream_t *server, int status) {
    if (status < 0) return;
    tp_worker *w = server->loop->data;
    uint32_t id = (uint32_t)(uintptr_t)server->data;
    tp_tls_ctx *tls = NULL;
    int h2c = 0;
    for (uint32_t i = 0; i < w->listener_count; i++)
        if (w->listeners[i] == (uv_tcp_t *)server) { tls = w->listener_tls[i]; h2c = w->listener_h2c[i]; }
    tp_conn_accept(w, server, id, tls, h2c);
    tp_worker_flush_dirty(w);
}

void tp_worker_set_h2c(tp_worker *w, uint32_t listener_id, int enabled) {
    for (uint32_t i = 0; i < w->listener_count; i++)
        if (w->listener_ids[i] == listener_id) w->listener_h2c[i] = (uint8_t)(enabled != 0);
}

void tp_worker_set_tls(tp_worker *w, uint32_t listener_id, tp_tls_ctx *ctx) {
    for (uint32_t i = 0; i < w->listener_count; i++) {
        if (w->listener_ids[i] != listener_id) continue;
        if (ctx) tp_tls_ctx_retain(ctx);
        tp_tls_ctx *old = w->listener_tls[i];
        w->listener_tls[i] = ctx;
        if (old) tp_tls_ctx_release(old);
    }
}

int tp_worker_listen(tp_worker *w, const char *host, uint16_t port, uint32_t listener_id,
                     int reuseport) {
    if (w->listener_count >= 16) return -ENOSPC;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t slen;
    int family;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        slen = sizeof *a4;
        family = AF_INET;
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        slen = sizeof *a6;
        family = AF_INET6;
    } else {
        return -EINVAL;
    }
    /* libuv 1.44 has no flag for SO_REUSEPORT: set it on our own socket, then hand
     * the socket to libuv. */
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, slen) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    uv_tcp_t *t = malloc(sizeof(uv_tcp_t));
    if (!t) { close(fd); return -ENOMEM; }
    uv_tcp_init(&w->loop, t);
    int r = uv_tcp_open(t, fd);
    if (r == 0) r = uv_listen((uv_stream_t *)t, 1024, on_connection);
    if (r != 0) {
        uv_close((uv_handle_t *)t, close_listener);
        return r;
    }
    t->data = (void *)(uintptr_t)listener_id;
    w->loop.data = w;
    w->listeners[w->listener_count] = t;
    w->listener_ids[w->listener_count] = listener_id;
    w->listener_count++;
    return 0;
}

static void worker_main(void *arg) {
    tp_worker *w = arg;
    w->loop.data = w;
    uv_timer_start(&w->sweep_timer, on_sweep, TP_SWEEP_MS, TP_SWEEP_MS);
    if (w->opt.tick_ms) uv_timer_start(&w->tick_timer, on_tick, w->opt.tick_ms, w->opt.tick_ms);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    /* Anything still open (e.g. closed from a callback after the stop) finishes here. */
    worker_shutdown(w);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_loop_close(&w->loop);
}

int tp_worker_start(tp_worker *w) {
    w->loop.data = w;
    return uv_thread_create(&w->thread, worker_main, w);
}

void tp_worker_join(tp_worker *w) {
    uv_thread_join(&w->thread);
    for (uint32_t i = 0; i < 16; i++) {
        if (w->listener_tls[i]) tp_tls_ctx_release(w->listener_tls[i]);
        w->listener_tls[i] = NULL;
    }
    free(w->pools);
    tp_buf_free(&w->scratch);
    tp_buf_free(&w->up_scratch);
    free(w);
}

void tp_worker_post(tp_worker *w) { uv_async_send(&w->async); }

void tp_worker_drain(tp_worker *w, uint32_t timeout_ms) {
    if (w->draining) return;
    w->draining = 1;
    w->drain_deadline_ns = tp_loop_ns(w) + (uint64_t)timeout_ms * 1000000ull;
    for (uint32_t i = 0; i < w->listener_count; i++) {
        if (w->listeners[i]) uv_close((uv_handle_t *)w->listeners[i], close_listener);
        w->listeners[i] = NULL;
    }
    /* Idle connections go now; busy ones close after their current exchange. */
    for (tp_link *l = w->conns.next; l != &w->conns;) {
        tp_conn *c = TP_CONTAINER(l, tp_conn, link);
        l = l->next;
        tp_conn_mark_dirty(c);
    }
    tp_worker_flush_dirty(w);
}

/* The same shape as the gateway's ids (11 bytes → 16 base64 characters): seconds,
 * worker index, and a counter with the high bit set so it never meets Swift's. */
void tp_worker_request_id(tp_worker *w, char out[17]) {
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t raw[12] = {0};
    uint64_t secs = (uint64_t)time(NULL);
    uint64_t n = ++w->reject_counter | 0x800000000000ull;
    raw[0] = (uint8_t)(secs >> 24); raw[1] = (uint8_t)(secs >> 16);
    raw[2] = (uint8_t)(secs >> 8); raw[3] = (uint8_t)secs;
    raw[4] = (uint8_t)w->index;
    for (int i = 0; i < 6; i++) raw[5 + i] = (uint8_t)(n >> (40 - 8 * i));
    int o = 0;
    for (int i = 0; i < 12; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = b64[v & 63];
    }
    out[15] = '=';
    out[16] = 0;
}

uint64_t tp_worker_open_connections(const tp_worker *w) { return w->open_conns; }

uint64_t tp_worker_pooled_upstreams(const tp_worker *w) {
    uint64_t n = 0;
    for (uint32_t i = 0; i < w->pool_count; i++) n += w->pools[i].idle_count;
    return n;
}

tp_pool *tp_worker_pool(tp_worker *w, uint32_t endpoint_id) {
    if (endpoint_id >= w->pool_count) {
        uint32_t n = w->pool_count ? w->pool_count : 8;
        while (n <= endpoint_id) n *= 2;
        tp_pool *p = realloc(w->pools, n * sizeof(tp_pool));
        if (!p) return NULL;
        for (uint32_t i = w->pool_count; i < n; i++) {
            p[i].idle_count = 0;
            p[i].pipe_count = 0;
        }
        /* Lists hold pointers to their heads: re-link after realloc moved them. */
        for (uint32_t i = 0; i < w->pool_count; i++) {
            if (p[i].idle_count == 0) tp_list_init(&p[i].idle);
            else { p[i].idle.next->prev = &p[i].idle; p[i].idle.prev->next = &p[i].idle; }
            if (p[i].pipe_count == 0) tp_list_init(&p[i].pipes);
            else { p[i].pipes.next->prev = &p[i].pipes; p[i].pipes.prev->next = &p[i].pipes; }
        }
        for (uint32_t i = w->pool_count; i < n; i++) {
            tp_list_init(&p[i].idle);
            tp_list_init(&p[i].pipes);
        }
        w->pools = p;
        w->pool_count = n;
    }
    return &w->pools[endpoint_id];
}

void tp_worker_flush_dirty(tp_worker *w) {
    if (w->flushing) return;
    w->flushing = 1;
    while (!tp_list_empty(&w->dirty)) {
        tp_link *l = w->dirty.next;
        tp_list_remove(l);
        tp_conn *c = TP_CONTAINER(l, tp_conn, dirty_link);
        tp_conn_progress(c);
    }
    w->flushing = 0;
}

void tp_worker_conn_closed(tp_worker *w) {
    w->open_conns--;
    if (w->draining && w->open_conns == 0 && w->open_probes == 0) {
        /* Let the sweep finish the shutdown on the next turn. */
        uv_timer_start(&w->sweep_timer, on_sweep, 0, TP_SWEEP_MS);
    }
}
