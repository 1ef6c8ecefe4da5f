/* Internal to the load generator's transport: the worker, its connections, and the
 * per-protocol halves (bench_http1.c, bench_http2.c, bench_tls.c). */
#ifndef TURNPIKE_BENCH_INTERNAL_H
#define TURNPIKE_BENCH_INTERNAL_H

#include "turnpike_bench.h"
#include "turnpike_shim.h"
/* The shim's private header, for its growable buffer (tp_buf) and nothing else. */
#include "../../CSupport/internal.h"

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>
#include <uv.h>

/* One request in flight: when it was meant to go, when it went, what it is. */
typedef struct {
    uint64_t intended_ns;
    uint64_t sent_ns;
    uint32_t kind;
    uint8_t counted;
} tpb_flight;

/* An HTTP/2 stream slot: a flight plus what the stream has said so far. */
typedef struct {
    tpb_flight flight;
    uint32_t body_off;
    uint16_t status;
    uint8_t used;
} tpb_stream;

typedef enum {
    TPB_CONN_IDLE = 0,     /* no socket (before the first connect, or waiting to retry) */
    TPB_CONN_CONNECTING,
    TPB_CONN_HANDSHAKE,    /* TLS handshake */
    TPB_CONN_READY,
    TPB_CONN_CLOSING
} tpb_conn_state;

typedef enum { TPB_H1_HEAD = 0, TPB_H1_BODY, TPB_H1_CHUNKED, TPB_H1_UNTIL_CLOSE } tpb_h1_state;

typedef struct tpb_conn {
    struct tpb_worker *w;
    uint32_t index;
    uint8_t state;
    uint8_t tcp_open;      /* tcp is initialised and not yet closed */
    uint8_t writing;       /* a uv_write is in flight (of `inflight`) */
    uint8_t in_free;       /* on the worker's free stack (open loop) */
    uint8_t dirty;         /* has output to flush at the end of a dispatch */
    uint8_t close_after;   /* the server said Connection: close */
    uint8_t retry_fast;    /* reconnect at once (clean close) rather than after a pause */
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    uv_write_t write_req;
    uv_timer_t retry;
    uint64_t connect_started_ns;
    uint32_t in_flight;
    uint32_t capacity;

    SSL *ssl;
    BIO *rbio, *wbio;
    tp_buf out;           /* bytes waiting to be written */
    tp_buf inflight;      /* bytes handed to uv_write */

    /* HTTP/1.1: prebuilt requests per kind, the FIFO of flights, response state */
    tp_buf *wire;
    tpb_flight *fifo;
    uint32_t fifo_head, fifo_len;
    uint8_t h1_state;
    uint8_t keep_alive;
    uint16_t status;
    uint64_t body_left;
    tp_chunked_decoder chunk;
    tp_buf carry;         /* a response head split across reads */

    /* HTTP/2 */
    nghttp2_session *h2;
    nghttp2_nv **nva;      /* per kind */
    size_t *nv_len;
    tpb_stream *slots;
} tpb_conn;

typedef struct {
    uint8_t is_head;
    uint8_t *body;
    uint32_t body_len;
    uint64_t cumulative_weight;
} tpb_kind;

struct tpb_worker {
    tpb_config cfg;        /* scalars only; pointers below are the worker's own copies */
    uv_loop_t loop;
    uv_async_t stop_async;
    uv_timer_t tick;       /* timeouts */
    uv_timer_t end_timer;  /* the end of the counted window */
    int timer_fd;          /* open loop, Linux: precise wake-ups at intended send times */
    uv_poll_t timer_poll;
    uv_timer_t sched_timer;/* open loop elsewhere: millisecond wake-ups */
    SSL_CTX *ssl_ctx;
    tpb_record_fn record;
    void *record_ctx;

    tpb_kind *kinds;
    uint32_t kind_count;
    uint64_t total_weight;
    uint64_t rng;

    tpb_conn *conns;
    uint32_t *free_stack;
    uint32_t free_len;
    uint32_t *dirty_list;
    uint32_t dirty_len;

    uint64_t measure_start, measure_end;
    double ns_per_request;
    uint64_t next_k;
    uint64_t issued_counted, outstanding_counted;
    uint8_t stopping;

    tpb_stats stats;
    uint64_t progress;     /* read by other threads (relaxed atomics) */

    tp_parse_limits limits;
    tp_response_head head;
    uint8_t read_buf[65536];
    uint8_t plain_buf[65536];
};

/* bench_worker.c: what the protocol halves call */
void tpb_conn_send(tpb_conn *c, const uint8_t *p, size_t n);
void tpb_conn_flush(tpb_conn *c);
void tpb_conn_close(tpb_conn *c, int error_kind); /* error_kind < 0: no error */
void tpb_conn_ready(tpb_conn *c);
void tpb_complete(tpb_conn *c, const tpb_flight *f, uint16_t status);
void tpb_fail(tpb_conn *c, const tpb_flight *f, int error_kind);
void tpb_refund(tpb_conn *c, const tpb_flight *f); /* never reached the server: not an outcome */
uint64_t tpb_count_bytes(tpb_conn *c, size_t n);

/* bench_http1.c */
int tpb_h1_build(tpb_worker *w, tpb_conn *c, const tpb_config *cfg, const char *vary_value);
void tpb_h1_issue(tpb_conn *c, uint32_t kind, uint64_t intended, uint8_t counted, uint64_t now);
int tpb_h1_consume(tpb_conn *c, const uint8_t *p, size_t n); /* -1: protocol error */
int tpb_h1_eof(tpb_conn *c);                                 /* 1: a close-delimited body ended */
void tpb_h1_fail_all(tpb_conn *c, int error_kind);
void tpb_h1_refund_all(tpb_conn *c);
uint64_t tpb_h1_oldest_sent(const tpb_conn *c);

/* bench_http2.c */
int tpb_h2_build(tpb_worker *w, tpb_conn *c, const tpb_config *cfg, const char *vary_value);
int tpb_h2_start(tpb_conn *c);
int tpb_h2_issue(tpb_conn *c, uint32_t kind, uint64_t intended, uint8_t counted, uint64_t now);
int tpb_h2_consume(tpb_conn *c, const uint8_t *p, size_t n);
int tpb_h2_pump(tpb_conn *c);                                /* session output → tpb_conn_send */
int tpb_h2_alive(const tpb_conn *c);
int tpb_h2_accepts(const tpb_conn *c);                       /* no GOAWAY received */
void tpb_h2_end(tpb_conn *c, int error_kind);                /* fail streams, free session */
uint64_t tpb_h2_oldest_sent(const tpb_conn *c);

/* bench_tls.c */
SSL_CTX *tpb_tls_ctx_new(const tpb_config *cfg, char *err, size_t err_len);
int tpb_tls_start(tpb_conn *c);          /* -1 on failure */
int tpb_tls_step(tpb_conn *c);           /* 1 done, 0 more to do, -1 failed */
int tpb_tls_alpn_is_h2(const tpb_conn *c);
void tpb_tls_drain(tpb_conn *c);         /* ciphertext from the SSL object → out */
void tpb_tls_end(tpb_conn *c);

#endif
