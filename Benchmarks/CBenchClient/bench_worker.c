/* The load generator's worker: one uv loop, its connections, the send schedule
 * (closed or open loop), timeouts, and the counts. Protocol details live in
 * bench_http1.c, bench_http2.c and bench_tls.c. */
#include "bench_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/timerfd.h>
#include <unistd.h>
#endif

#define TPB_RETRY_PAUSE_MS 10
#define TPB_TICK_MS 10

uint64_t tpb_now_ns(void) { return uv_hrtime(); }

/* Relaxed atomics: the loop thread is the only writer, a progress reader may race. */
static inline void progress_bump(tpb_worker *w) {
    __atomic_store_n(&w->progress, __atomic_load_n(&w->progress, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

uint64_t tpb_worker_progress(const tpb_worker *w) { return __atomic_load_n(&w->progress, __ATOMIC_RELAXED); }

/* ---------------------------------------------------------------------------- */
/* Tickets: may a request go now, and is it counted?                              */
/* ---------------------------------------------------------------------------- */

static int take_ticket(tpb_worker *w, uint64_t intended, uint8_t *counted) {
    if (w->stopping) return 0;
    if (intended >= w->measure_end) return 0;
    *counted = 0;
    if (intended >= w->measure_start) {
        if (w->cfg.count) {
            if (w->issued_counted >= w->cfg.count) return 0;
            w->issued_counted++;
        }
        w->outstanding_counted++;
        *counted = 1;
    }
    return 1;
}

static void finish(tpb_worker *w);
static void on_sched_timer(uv_timer_t *t);

static void maybe_finish(tpb_worker *w) {
    if (w->cfg.count && w->issued_counted >= w->cfg.count && w->outstanding_counted == 0) finish(w);
}

static uint32_t pick_kind(tpb_worker *w) {
    if (w->kind_count == 1) return 0;
    uint64_t x = w->rng; /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    w->rng = x;
    uint64_t r = x % w->total_weight;
    for (uint32_t i = 0; i < w->kind_count; i++)
        if (r < w->kinds[i].cumulative_weight) return i;
    return w->kind_count - 1;
}

/* ---------------------------------------------------------------------------- */
/* Outcomes                                                                       */
/* ---------------------------------------------------------------------------- */

void tpb_complete(tpb_conn *c, const tpb_flight *f, uint16_t status) {
    tpb_worker *w = c->w;
    c->in_flight--;
    if (!f->counted || w->stopping) return;
    uint64_t now = uv_hrtime();
    w->outstanding_counted--;
    if (now >= w->measure_end) return; /* after the window, before the end timer fired */
    w->stats.responses++;
    w->stats.status[status < TPB_STATUS_MAX ? status : 0]++;
    if (w->cfg.count) w->stats.last_ns = now;
    w->record(w->record_ctx, now > f->intended_ns ? now - f->intended_ns : 0);
    progress_bump(w);
}

void tpb_fail(tpb_conn *c, const tpb_flight *f, int error_kind) {
    tpb_worker *w = c->w;
    if (c->in_flight) c->in_flight--;
    if (!f->counted || w->stopping) return;
    w->outstanding_counted--;
    w->stats.errors[error_kind]++;
    if (w->cfg.count) w->stats.last_ns = uv_hrtime();
    progress_bump(w);
}

void tpb_refund(tpb_conn *c, const tpb_flight *f) {
    tpb_worker *w = c->w;
    if (c->in_flight) c->in_flight--;
    if (!f->counted || w->stopping) return;
    w->outstanding_counted--;
    if (w->cfg.count) w->issued_counted--;
}

uint64_t tpb_count_bytes(tpb_conn *c, size_t n) {
    tpb_worker *w = c->w;
    uint64_t now = uv_hrtime();
    if (now >= w->measure_start && now < w->measure_end) w->stats.bytes += n;
    return now;
}

/* ---------------------------------------------------------------------------- */
/* Sending                                                                        */
/* ---------------------------------------------------------------------------- */

static void mark_dirty(tpb_conn *c) {
    if (c->dirty) return;
    c->dirty = 1;
    c->w->dirty_list[c->w->dirty_len++] = c->index;
}

/* Room for one more request now (an HTTP/2 session that got GOAWAY takes no new streams). */
static int can_send(const tpb_conn *c) {
    return c->state == TPB_CONN_READY && c->in_flight < c->capacity && !c->close_after &&
           (!c->h2 || tpb_h2_accepts(c));
}

static int issue(tpb_conn *c, uint64_t intended, uint8_t counted, uint64_t now) {
    uint32_t kind = pick_kind(c->w);
    c->in_flight++;
    mark_dirty(c);
    if (c->h2) return tpb_h2_issue(c, kind, intended, counted, now);
    tpb_h1_issue(c, kind, intended, counted, now);
    return 0;
}

static void flush_dirty(tpb_worker *w) {
    for (uint32_t i = 0; i < w->dirty_len; i++) {
        tpb_conn *c = &w->conns[w->dirty_list[i]];
        c->dirty = 0;
        if (c->state != TPB_CONN_READY) continue;
        if (c->h2 && tpb_h2_pump(c) != 0) {
            tpb_conn_close(c, TPB_ERR_PROTOCOL);
            continue;
        }
        tpb_conn_flush(c);
    }
    w->dirty_len = 0;
}

/* Closed loop: fill a connection up to its capacity. */
static void fill(tpb_conn *c) {
    tpb_worker *w = c->w;
    while (can_send(c)) {
        uint64_t now = uv_hrtime();
        uint8_t counted;
        if (!take_ticket(w, now, &counted)) break;
        if (issue(c, now, counted, now) != 0) break;
    }
}

static uint64_t intended_at(const tpb_worker *w, uint64_t k) {
    return w->cfg.start_ns + (uint64_t)((double)k * w->ns_per_request);
}

static void arm_schedule(tpb_worker *w, uint64_t at_ns) {
#ifdef __linux__
    if (w->timer_fd >= 0) {
        struct itimerspec its;
        memset(&its, 0, sizeof its);
        its.it_value.tv_sec = (time_t)(at_ns / 1000000000ull);
        its.it_value.tv_nsec = (long)(at_ns % 1000000000ull);
        if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) its.it_value.tv_nsec = 1;
        timerfd_settime(w->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
        return;
    }
#endif
    uint64_t now = uv_hrtime();
    uint64_t ms = at_ns > now ? (at_ns - now + 999999) / 1000000 : 0;
    uv_timer_start(&w->sched_timer, on_sched_timer, ms, 0);
}

static void push_free(tpb_conn *c) {
    if (c->in_free || !can_send(c)) return;
    c->in_free = 1;
    c->w->free_stack[c->w->free_len++] = c->index;
}

/* Open loop: send every request whose intended time has come, on free slots. */
static void dispatch(tpb_worker *w) {
    if (w->stopping) return;
    uint64_t now = uv_hrtime();
    if (now < w->cfg.start_ns) {
        arm_schedule(w, w->cfg.start_ns);
        return;
    }
    uint64_t due = (uint64_t)((double)(now - w->cfg.start_ns) / w->ns_per_request) + 1;
    while (w->next_k < due && w->free_len > 0) {
        tpb_conn *c = &w->conns[w->free_stack[w->free_len - 1]];
        if (!can_send(c)) {
            c->in_free = 0;
            w->free_len--;
            continue;
        }
        uint64_t intended = intended_at(w, w->next_k);
        uint8_t counted;
        if (!take_ticket(w, intended, &counted)) {
            w->next_k = UINT64_MAX;
            break;
        }
        w->next_k++;
        if (issue(c, intended, counted, now) != 0) break;
        if (!can_send(c)) {
            c->in_free = 0;
            w->free_len--;
        }
    }
    if (w->next_k != UINT64_MAX && due > w->next_k && now >= w->measure_start && due - w->next_k > w->stats.backlog_max)
        w->stats.backlog_max = due - w->next_k;
    flush_dirty(w);
    if (w->next_k != UINT64_MAX && w->next_k >= due && !w->stopping) arm_schedule(w, intended_at(w, w->next_k));
}

/* After a connection made progress: give it more work. */
static void refill(tpb_conn *c) {
    tpb_worker *w = c->w;
    if (w->stopping || c->state != TPB_CONN_READY) return;
    if (w->cfg.rate > 0) {
        push_free(c);
        dispatch(w);
    } else {
        fill(c);
        flush_dirty(w);
    }
}

/* ---------------------------------------------------------------------------- */
/* Writing                                                                        */
/* ---------------------------------------------------------------------------- */

void tpb_conn_send(tpb_conn *c, const uint8_t *p, size_t n) {
    if (c->ssl) {
        SSL_write(c->ssl, p, (int)n); /* a memory BIO takes it all */
        tpb_tls_drain(c);
    } else {
        tp_buf_append(&c->out, p, n);
    }
}

static void on_write(uv_write_t *req, int status) {
    tpb_conn *c = req->data;
    c->writing = 0;
    if (c->state == TPB_CONN_CLOSING || c->state == TPB_CONN_IDLE) return;
    if (status < 0) {
        tpb_conn_close(c, TPB_ERR_WRITE);
        return;
    }
    if (c->out.len) tpb_conn_flush(c);
}

void tpb_conn_flush(tpb_conn *c) {
    if (c->writing || c->out.len == 0 || !c->tcp_open || c->state == TPB_CONN_CLOSING) return;
    uv_buf_t b = uv_buf_init((char *)c->out.data, (unsigned)c->out.len);
    int r = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (r >= 0 && (size_t)r == c->out.len) {
        c->out.len = 0;
        return;
    }
    if (r < 0 && r != UV_EAGAIN) {
        tpb_conn_close(c, TPB_ERR_WRITE);
        return;
    }
    size_t done = r > 0 ? (size_t)r : 0;
    tp_buf t = c->inflight;
    c->inflight = c->out;
    c->out = t;
    c->out.len = 0;
    c->writing = 1;
    b = uv_buf_init((char *)c->inflight.data + done, (unsigned)(c->inflight.len - done));
    if (uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &b, 1, on_write) != 0) {
        c->writing = 0;
        tpb_conn_close(c, TPB_ERR_WRITE);
    }
}

/* ---------------------------------------------------------------------------- */
/* Connection lifecycle                                                           */
/* ---------------------------------------------------------------------------- */

static void conn_connect(tpb_conn *c);

static void on_retry(uv_timer_t *t) {
    tpb_conn *c = t->data;
    if (!c->w->stopping && c->state == TPB_CONN_IDLE) conn_connect(c);
}

static void on_closed(uv_handle_t *h) {
    tpb_conn *c = h->data;
    tpb_worker *w = c->w;
    c->tcp_open = 0;
    c->state = TPB_CONN_IDLE;
    c->writing = 0;
    c->out.len = 0;
    c->inflight.len = 0;
    c->carry.len = 0;
    if (w->stopping) return;
    uv_timer_start(&c->retry, on_retry, c->retry_fast ? 0 : TPB_RETRY_PAUSE_MS, 0);
}

void tpb_conn_close(tpb_conn *c, int error_kind) {
    if (c->state == TPB_CONN_CLOSING || c->state == TPB_CONN_IDLE) return;
    int kind = error_kind < 0 ? TPB_ERR_READ : error_kind;
    c->retry_fast = error_kind < 0 || error_kind == TPB_ERR_READ;
    if (c->h2) tpb_h2_end(c, kind);
    else tpb_h1_fail_all(c, kind);
    c->in_flight = 0;
    tpb_tls_end(c);
    c->state = TPB_CONN_CLOSING;
    c->close_after = 0;
    if (c->tcp_open) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        uv_close((uv_handle_t *)&c->tcp, on_closed);
    }
    maybe_finish(c->w);
}

void tpb_conn_ready(tpb_conn *c) {
    tpb_worker *w = c->w;
    c->state = TPB_CONN_READY;
    c->h1_state = TPB_H1_HEAD;
    c->fifo_head = c->fifo_len = 0;
    c->in_flight = 0;
    c->close_after = 0;
    if (w->cfg.http2) {
        if (tpb_h2_start(c) != 0) {
            tpb_conn_close(c, TPB_ERR_PROTOCOL);
            return;
        }
        c->capacity = w->cfg.streams;
        mark_dirty(c);
    } else {
        c->capacity = w->cfg.pipeline;
    }
    refill(c);
    if (c->state == TPB_CONN_READY) {
        if (c->h2 && tpb_h2_pump(c) != 0) {
            tpb_conn_close(c, TPB_ERR_PROTOCOL);
            return;
        }
        tpb_conn_flush(c);
    }
}

/* A connection that could not be made (refused, TLS handshake, ALPN, timeout) costs one
 * request of a counted run, so a run against a dead target still ends. */
static void setup_failed(tpb_conn *c, int error_kind) {
    tpb_worker *w = c->w;
    uint8_t counted = 0;
    uint64_t now = uv_hrtime();
    if (take_ticket(w, now, &counted)) {
        tpb_flight f = {now, now, 0, counted};
        c->in_flight++;
        tpb_fail(c, &f, error_kind);
    }
    if (c->state == TPB_CONN_CONNECTING) {
        c->retry_fast = 0;
        c->state = TPB_CONN_CLOSING;
        uv_close((uv_handle_t *)&c->tcp, on_closed);
        maybe_finish(w);
    } else {
        tpb_conn_close(c, error_kind);
        c->retry_fast = 0;
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)suggested;
    tpb_conn *c = h->data;
    *buf = uv_buf_init((char *)c->w->read_buf, sizeof c->w->read_buf);
}

static int consume(tpb_conn *c, const uint8_t *p, size_t n) {
    tpb_count_bytes(c, n);
    return c->h2 ? tpb_h2_consume(c, p, n) : tpb_h1_consume(c, p, n);
}

static void on_eof(tpb_conn *c) {
    if (!c->h2 && tpb_h1_eof(c)) {
        tpb_conn_close(c, -1);
        return;
    }
    tpb_conn_close(c, c->in_flight ? TPB_ERR_READ : -1);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    tpb_conn *c = s->data;
    tpb_worker *w = c->w;
    if (nread == 0) return;
    if (nread < 0) {
        on_eof(c);
        return;
    }
    if (c->ssl) {
        BIO_write(c->rbio, buf->base, (int)nread);
        if (c->state == TPB_CONN_HANDSHAKE) {
            int r = tpb_tls_step(c);
            if (r < 0) {
                setup_failed(c, TPB_ERR_TLS);
                return;
            }
            tpb_conn_flush(c);
            if (r == 0) return;
            if (w->cfg.http2 && !tpb_tls_alpn_is_h2(c)) {
                setup_failed(c, TPB_ERR_PROTOCOL);
                return;
            }
            tpb_conn_ready(c);
            if (c->state != TPB_CONN_READY) return;
        }
        for (;;) {
            int n = SSL_read(c->ssl, w->plain_buf, sizeof w->plain_buf);
            if (n <= 0) {
                int e = SSL_get_error(c->ssl, n);
                tpb_tls_drain(c); /* key updates, alerts */
                if (e == SSL_ERROR_WANT_READ) break;
                if (e == SSL_ERROR_ZERO_RETURN) {
                    on_eof(c);
                    return;
                }
                tpb_conn_close(c, TPB_ERR_READ);
                return;
            }
            if (consume(c, w->plain_buf, (size_t)n) != 0) {
                tpb_conn_close(c, TPB_ERR_PROTOCOL);
                return;
            }
            if (c->state != TPB_CONN_READY) return;
        }
    } else if (consume(c, (const uint8_t *)buf->base, (size_t)nread) != 0) {
        tpb_conn_close(c, TPB_ERR_PROTOCOL);
        return;
    }
    maybe_finish(w);
    if (c->state != TPB_CONN_READY) return;
    if (c->h2 && (!tpb_h2_alive(c) || (!c->in_flight && !tpb_h2_accepts(c)))) { /* GOAWAY, or not HTTP/2 */
        tpb_conn_close(c, c->in_flight ? TPB_ERR_PROTOCOL : -1);
        return;
    }
    if (c->close_after) { /* Connection: close; requests pipelined behind it were never served */
        tpb_h1_refund_all(c);
        tpb_conn_close(c, -1);
        return;
    }
    refill(c);
    if (c->state != TPB_CONN_READY) return;
    if (c->h2 && tpb_h2_pump(c) != 0) {
        tpb_conn_close(c, TPB_ERR_PROTOCOL);
        return;
    }
    tpb_conn_flush(c);
}

static void on_connect(uv_connect_t *req, int status) {
    tpb_conn *c = req->data;
    if (status == UV_ECANCELED || c->state != TPB_CONN_CONNECTING) return;
    if (status < 0) {
        setup_failed(c, TPB_ERR_CONNECT);
        return;
    }
    c->w->stats.connects++;
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (c->w->cfg.tls) {
        c->state = TPB_CONN_HANDSHAKE;
        if (tpb_tls_start(c) != 0 || tpb_tls_step(c) < 0) {
            setup_failed(c, TPB_ERR_TLS);
            return;
        }
        tpb_conn_flush(c);
        return;
    }
    tpb_conn_ready(c);
}

static void conn_connect(tpb_conn *c) {
    tpb_worker *w = c->w;
    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof addr);
    if (uv_ip4_addr(w->cfg.ip, w->cfg.port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(w->cfg.ip, w->cfg.port, (struct sockaddr_in6 *)&addr) != 0)
        return;
    uv_tcp_init(&w->loop, &c->tcp);
    c->tcp.data = c;
    c->tcp_open = 1;
    c->state = TPB_CONN_CONNECTING;
    c->connect_started_ns = uv_hrtime();
    uv_tcp_nodelay(&c->tcp, 1);
    c->connect_req.data = c;
    int r = uv_tcp_connect(&c->connect_req, &c->tcp, (const struct sockaddr *)&addr, on_connect);
    if (r != 0) setup_failed(c, TPB_ERR_CONNECT);
}

/* ---------------------------------------------------------------------------- */
/* Timers and the end                                                             */
/* ---------------------------------------------------------------------------- */

static void on_tick(uv_timer_t *t) {
    tpb_worker *w = t->data;
    uint64_t now = uv_hrtime();
    for (uint32_t i = 0; i < w->cfg.connections && !w->stopping; i++) {
        tpb_conn *c = &w->conns[i];
        if (c->state == TPB_CONN_CONNECTING || c->state == TPB_CONN_HANDSHAKE) {
            if (now - c->connect_started_ns > w->cfg.timeout_ns) {
                setup_failed(c, c->state == TPB_CONN_CONNECTING ? TPB_ERR_CONNECT : TPB_ERR_TIMEOUT);
            }
        } else if (c->state == TPB_CONN_READY && c->in_flight) {
            uint64_t oldest = c->h2 ? tpb_h2_oldest_sent(c) : tpb_h1_oldest_sent(c);
            if (oldest && now > oldest && now - oldest > w->cfg.timeout_ns) tpb_conn_close(c, TPB_ERR_TIMEOUT);
        }
    }
}

static void on_end(uv_timer_t *t) { finish(t->data); }

static void on_stop(uv_async_t *a) { finish(a->data); }

#ifdef __linux__
static void on_timer_fd(uv_poll_t *p, int status, int events) {
    (void)status;
    (void)events;
    tpb_worker *w = p->data;
    uint64_t expirations;
    if (read(w->timer_fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN) return;
    dispatch(w);
}
#endif

static void on_sched_timer(uv_timer_t *t) { dispatch(t->data); }

/* The loop ends once every handle is closed; nothing is freed here (tpb_worker_free does). */
static void on_handle_closed(uv_handle_t *h) { (void)h; }

static void finish(tpb_worker *w) {
    if (w->stopping) return;
    uint64_t now = uv_hrtime();
    w->stopping = 1;
    if (!w->cfg.count) w->stats.last_ns = now < w->measure_end ? now : w->measure_end;
    else if (w->stats.last_ns == 0) w->stats.last_ns = now;
    for (uint32_t i = 0; i < w->cfg.connections; i++) {
        tpb_conn *c = &w->conns[i];
        if (c->h2) tpb_h2_end(c, TPB_ERR_READ);
        tpb_tls_end(c);
        if (c->tcp_open && c->state != TPB_CONN_CLOSING) {
            c->state = TPB_CONN_CLOSING;
            uv_close((uv_handle_t *)&c->tcp, on_closed);
        }
        uv_close((uv_handle_t *)&c->retry, on_handle_closed);
    }
    uv_close((uv_handle_t *)&w->tick, on_handle_closed);
    uv_close((uv_handle_t *)&w->end_timer, on_handle_closed);
    uv_close((uv_handle_t *)&w->stop_async, on_handle_closed);
    uv_close((uv_handle_t *)&w->sched_timer, on_handle_closed);
#ifdef __linux__
    if (w->timer_fd >= 0) uv_close((uv_handle_t *)&w->timer_poll, on_handle_closed);
#endif
}

/* ---------------------------------------------------------------------------- */
/* The ABI                                                                        */
/* ---------------------------------------------------------------------------- */

static char *dup_str(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d) memcpy(d, s, n + 1);
    return d;
}

tpb_worker *tpb_worker_create(const tpb_config *cfg, tpb_record_fn record, void *ctx, char *err, size_t err_len) {
    if (cfg->connections == 0 || cfg->request_count == 0 || !cfg->ip) {
        snprintf(err, err_len, "a worker needs connections, requests and an address");
        return NULL;
    }
    tpb_worker *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    w->cfg = *cfg;
    w->cfg.ip = dup_str(cfg->ip);
    w->cfg.authority = dup_str(cfg->authority);
    w->cfg.sni = dup_str(cfg->sni);
    w->cfg.ca_file = NULL;
    w->cfg.requests = NULL;
    w->cfg.vary_values = NULL;
    w->cfg.vary_name = NULL;
    if (w->cfg.pipeline == 0) w->cfg.pipeline = 1;
    if (w->cfg.streams == 0) w->cfg.streams = 1;
    if (w->cfg.timeout_ns == 0) w->cfg.timeout_ns = 10000000000ull;
    w->timer_fd = -1;
    w->record = record;
    w->record_ctx = ctx;
    w->rng = cfg->seed ? cfg->seed : 0x9E3779B97F4A7C15ull;
    w->limits.max_request_line = 65536;
    w->limits.max_head_bytes = 65536;
    w->measure_start = cfg->start_ns + cfg->warmup_ns;
    w->measure_end = cfg->count ? UINT64_MAX : w->measure_start + cfg->duration_ns;
    w->stats.first_ns = w->measure_start;
    w->ns_per_request = cfg->rate > 0 ? 1e9 / cfg->rate : 0;

    w->kind_count = cfg->request_count;
    w->kinds = calloc(cfg->request_count, sizeof *w->kinds);
    for (uint32_t i = 0; i < cfg->request_count; i++) {
        const tpb_request *r = &cfg->requests[i];
        w->total_weight += r->weight ? r->weight : 1;
        w->kinds[i].cumulative_weight = w->total_weight;
        w->kinds[i].is_head = strcmp(r->method, "HEAD") == 0;
        if (r->body_len) {
            w->kinds[i].body = malloc(r->body_len);
            if (w->kinds[i].body) memcpy(w->kinds[i].body, r->body, r->body_len);
            w->kinds[i].body_len = r->body_len;
        }
    }
    if (cfg->tls) {
        w->ssl_ctx = tpb_tls_ctx_new(cfg, err, err_len);
        if (!w->ssl_ctx) {
            tpb_worker_free(w);
            return NULL;
        }
    }
    w->conns = calloc(cfg->connections, sizeof *w->conns);
    w->free_stack = calloc(cfg->connections, sizeof *w->free_stack);
    w->dirty_list = calloc(cfg->connections, sizeof *w->dirty_list);
    if (!w->conns || !w->free_stack || !w->dirty_list) {
        snprintf(err, err_len, "out of memory");
        tpb_worker_free(w);
        return NULL;
    }
    for (uint32_t i = 0; i < cfg->connections; i++) {
        tpb_conn *c = &w->conns[i];
        c->w = w;
        c->index = i;
        const char *vary = cfg->vary_count ? cfg->vary_values[(cfg->connection_base + i) % cfg->vary_count] : NULL;
        int r = cfg->http2 ? tpb_h2_build(w, c, cfg, vary) : tpb_h1_build(w, c, cfg, vary);
        if (r != 0) {
            snprintf(err, err_len, "out of memory building requests");
            tpb_worker_free(w);
            return NULL;
        }
    }
    return w;
}

int tpb_worker_run(tpb_worker *w) {
    uv_loop_init(&w->loop);
    uv_async_init(&w->loop, &w->stop_async, on_stop);
    w->stop_async.data = w;
    uv_timer_init(&w->loop, &w->tick);
    w->tick.data = w;
    uv_timer_start(&w->tick, on_tick, TPB_TICK_MS, TPB_TICK_MS);
    uv_timer_init(&w->loop, &w->end_timer);
    w->end_timer.data = w;
    uv_timer_init(&w->loop, &w->sched_timer);
    w->sched_timer.data = w;
    if (!w->cfg.count) {
        uint64_t now = uv_hrtime();
        uint64_t ms = w->measure_end > now ? (w->measure_end - now + 999999) / 1000000 : 0;
        uv_timer_start(&w->end_timer, on_end, ms, 0);
    }
    if (w->cfg.rate > 0) {
#ifdef __linux__
        w->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (w->timer_fd >= 0) {
            uv_poll_init(&w->loop, &w->timer_poll, w->timer_fd);
            w->timer_poll.data = w;
            uv_poll_start(&w->timer_poll, UV_READABLE, on_timer_fd);
        }
#endif
    }
    for (uint32_t i = 0; i < w->cfg.connections; i++) {
        tpb_conn *c = &w->conns[i];
        uv_timer_init(&w->loop, &c->retry);
        c->retry.data = c;
        conn_connect(c);
    }
    if (w->cfg.rate > 0) dispatch(w);
    maybe_finish(w);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_loop_close(&w->loop);
#ifdef __linux__
    if (w->timer_fd >= 0) close(w->timer_fd);
    w->timer_fd = -1;
#endif
    return 0;
}

void tpb_worker_stop(tpb_worker *w) { uv_async_send(&w->stop_async); }

void tpb_worker_stats(const tpb_worker *w, tpb_stats *out) { *out = w->stats; }

void tpb_worker_free(tpb_worker *w) {
    if (!w) return;
    for (uint32_t i = 0; w->conns && i < w->cfg.connections; i++) {
        tpb_conn *c = &w->conns[i];
        for (uint32_t k = 0; c->wire && k < w->kind_count; k++) tp_buf_free(&c->wire[k]);
        free(c->wire);
        for (uint32_t k = 0; c->nva && k < w->kind_count; k++) {
            for (size_t j = 0; c->nva[k] && j < c->nv_len[k]; j++) {
                free(c->nva[k][j].name);
                free(c->nva[k][j].value);
            }
            free(c->nva[k]);
        }
        free(c->nva);
        free(c->nv_len);
        free(c->slots);
        free(c->fifo);
        tp_buf_free(&c->out);
        tp_buf_free(&c->inflight);
        tp_buf_free(&c->carry);
    }
    for (uint32_t i = 0; w->kinds && i < w->kind_count; i++) {
        free(w->kinds[i].body);
    }
    free(w->kinds);
    free(w->conns);
    free(w->free_stack);
    free(w->dirty_list);
    if (w->ssl_ctx) SSL_CTX_free(w->ssl_ctx);
    free((char *)w->cfg.ip);
    free((char *)w->cfg.authority);
    free((char *)w->cfg.sni);
    free(w);
}
