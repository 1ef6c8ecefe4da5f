/*
 * internal.h — the shim's private structures. Nothing here is seen by Swift.
 *
 * Ownership: a tp_conn (client connection) and a tp_up (upstream connection) are
 * each freed in exactly one place, their uv_close callback. A tp_exchange lives
 * inside its tp_conn (one exchange at a time per HTTP/1.1 connection).
 */
#ifndef TURNPIKE_INTERNAL_H
#define TURNPIKE_INTERNAL_H

#include <string.h>
#include <uv.h>
#include <openssl/ssl.h>
#include "turnpike_shim.h"

/* Write queue depth (bytes) above which we stop producing into a stream, and
 * below which we start again. */
#define TP_HIGH_WATER (512u * 1024u)
#define TP_LOW_WATER (128u * 1024u)

#define TP_CLIENT_BUF_INITIAL (16u * 1024u)
#define TP_CLIENT_BUF_MAX (256u * 1024u)
#define TP_UPSTREAM_BUF (64u * 1024u)
#define TP_LINGER_MS 2000u
/* A body left unread after an early response is discarded up to this size;
 * beyond it the connection is closed instead. */
#define TP_DISCARD_MAX (1024u * 1024u)
/* Most requests in flight on one pipelined upstream connection (tp_upstream_target's
 * pipeline_depth is capped to it), and how often one request may be moved to another
 * connection because the one it was written on closed before answering it. Every such
 * close also ends a request ahead of it (answered, failed or abandoned), so moves cannot
 * go on for ever; the cap bounds one request's wait when an upstream fails often. */
#define TP_PIPELINE_MAX 64u
#define TP_MAX_REDISPATCH 16u
/* A pipelined connection keeps reading for requests queued behind a slow client's response;
 * that client's queue may reach this before its response is cut. */
#define TP_PIPELINE_CLIENT_MAX (4u * 1024u * 1024u)

typedef struct tp_conn tp_conn;
typedef struct tp_up tp_up;
typedef struct tp_h2 tp_h2;
typedef struct tp_h2_stream tp_h2_stream;
typedef struct tp_up_stream tp_up_stream;

/* A growable byte buffer. */
typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
} tp_buf;

int tp_buf_reserve(tp_buf *b, size_t cap);
int tp_buf_append(tp_buf *b, const void *p, size_t n);
void tp_buf_free(tp_buf *b);

/* An intrusive doubly-linked list node. */
typedef struct tp_link {
    struct tp_link *prev, *next;
} tp_link;

static inline void tp_list_init(tp_link *head) { head->prev = head->next = head; }
static inline int tp_list_empty(const tp_link *head) { return head->next == head; }
static inline void tp_list_insert(tp_link *head, tp_link *node) {
    node->next = head->next;
    node->prev = head;
    head->next->prev = node;
    head->next = node;
}
/* Inserts at the tail: lists that are worked through in the order things joined them. */
static inline void tp_list_append(tp_link *head, tp_link *node) {
    node->prev = head->prev;
    node->next = head;
    head->prev->next = node;
    head->prev = node;
}
static inline void tp_list_remove(tp_link *node) {
    if (node->next == NULL) return;
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->prev = node->next = NULL;
}
#define TP_CONTAINER(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* How a body is delimited. */
typedef enum {
    TP_BODY_NONE = 0,
    TP_BODY_LENGTH,   /* Content-Length */
    TP_BODY_CHUNKED,
    TP_BODY_UNTIL_CLOSE /* responses only */
} tp_body_mode;

typedef enum {
    TP_EX_NONE = 0,      /* no exchange on the connection */
    TP_EX_DISPATCHED,    /* on_request called, no answer yet */
    TP_EX_RESPONDED,     /* a complete local response was queued */
    TP_EX_PROXYING       /* handed to an upstream */
} tp_ex_state;

struct tp_exchange {
    tp_conn *conn;
    tp_h2_stream *h2s;        /* the HTTP/2 stream this exchange is; NULL on HTTP/1.1 */
    uint64_t user;
    tp_ex_state state;
    uint8_t is_head;          /* HEAD request: responses carry no body */
    uint8_t client_minor;     /* client's HTTP/1.<minor> */
    uint8_t expect_continue;
    uint8_t sent_continue;
    uint8_t response_complete;/* every response byte has been queued */
    uint8_t head_sent;        /* a response head went to the client */
    uint8_t close_after;      /* no further request on this connection */
    uint8_t retry_allowed;    /* inside on_upstream_error with a CONNECT_* kind */
    uint8_t pending_error;    /* a tp_upstream_error waiting to be reported to Swift */
    uint8_t head_written;     /* client_head went out */
    uint8_t redispatches;     /* times moved off a pipelined connection that closed */

    /* Request body, as read from the client. */
    tp_body_mode req_mode;
    uint64_t req_remaining;   /* TP_BODY_LENGTH */
    tp_chunked_decoder req_chunked;
    uint8_t req_done;
    uint8_t req_forward_done; /* the terminating chunk was sent upstream */

    /* Upstream side. */
    tp_up *up;
    tp_up_stream *up_stream;  /* the HTTP/2 stream toward the upstream (h2_upstream.c) */
    tp_upstream_target target;
    tp_buf up_head;           /* Swift's request head, kept for a retry */
    tp_buf client_head;       /* response head for the client, sent with the first body bytes */
    tp_body_mode resp_mode;   /* framing toward the client */
    uint64_t capture_max;     /* hand the body to Swift up to this many bytes; 0 = no */
    uint64_t captured;
    uint8_t capture_done;
    uint8_t resp_chunked_out; /* re-encode chunks toward the client */

    /* Request body buffered for Swift (tp_exchange_read_body; request_body.c). */
    uint8_t body_reading;     /* buffering, the callback not made yet */
    uint64_t body_max;
    tp_buf body_buf;

    tp_exchange_stats stats;
};

struct tp_conn {
    uv_tcp_t tcp;             /* first: the handle's address is the conn's */
    tp_worker *worker;
    tp_link link;             /* worker->conns */
    tp_link dirty_link;       /* worker->dirty */
    tp_link h2_flush_link;    /* worker->h2_flush: HTTP/2 output to write before the next poll */
    uint8_t *rbuf;
    size_t rcap, rpos, rlen;  /* unconsumed bytes are rbuf[rpos..rlen) */
    uint64_t deadline_ns;     /* header / keep-alive / linger deadline; 0 = none */
    uint32_t pending_writes;
    uint8_t reading;
    uint8_t closing;
    uint8_t lingering;        /* write side shut, discarding input until EOF */
    uint8_t peer_eof;
    tp_conn_info info;
    tp_exchange ex;
    /* TLS: NULL on plain connections. */
    tp_tls_ctx *tls;
    SSL *ssl;
    BIO *rbio, *wbio;
    uint8_t tls_ready;        /* handshake complete */
    uint8_t notified;         /* close_notify was attempted */
    /* HTTP/2: NULL while the connection speaks HTTP/1.1. */
    tp_h2 *h2;
    uint8_t h2c;              /* the listener accepts h2c with prior knowledge */
    uint8_t proto_decided;    /* HTTP/1.1 or HTTP/2 is settled (ALPN or the preface) */
    uint8_t detached;         /* no socket: writes are dropped (the fuzz harness) */
};

typedef enum {
    TP_UP_CONNECTING = 0,
    TP_UP_HANDSHAKE,          /* TCP up, TLS handshake in progress */
    TP_UP_ACTIVE,
    TP_UP_IDLE,
    TP_UP_CLOSING
} tp_up_state;

struct tp_up {
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    tp_worker *worker;
    tp_link link;             /* worker->ups (all) */
    tp_link idle_link;        /* pool idle list */
    uint32_t endpoint_id;
    tp_up_state state;
    tp_exchange *ex;          /* when ACTIVE */
    uint8_t *rbuf;
    size_t rpos, rlen;
    uint64_t deadline_ns;
    uint64_t timeout_ns;
    uint32_t pending_writes;
    uint8_t reused;
    uint8_t reading;
    uint8_t head_done;
    uint8_t keep_alive;
    uint8_t paused;           /* reading stopped: the client is slow */
    uint8_t body_done;
    uint8_t head_pending;     /* the request head still has to be written */
    uint64_t bytes_in;        /* of the response being read */
    uint32_t responses;       /* responses completed on this connection */
    tp_body_mode mode;
    uint64_t remaining;
    tp_chunked_decoder chunked;
    /* TLS toward the upstream: NULL for plain HTTP. */
    SSL *ssl;
    BIO *rbio, *wbio;
    tp_tls_client *tls;
    /* Pipelining (target.pipeline_depth > 1, upstream.c): `ex` is the request whose
     * response is being read; the requests written after it wait in `queue` (a ring,
     * oldest first) for theirs, which arrive in the same order. A NULL slot is a request
     * whose client left: its response is still coming, so the connection closes when that
     * slot reaches the front and the requests behind it are sent again elsewhere. */
    tp_exchange *queue[TP_PIPELINE_MAX];
    uint8_t qhead, qcount;
    uint8_t pipelined;        /* on its pool's `pipes` list: takes more requests while busy */
    tp_buf out;               /* request heads gathered this loop iteration */
    tp_link pipe_link;        /* pool->pipes */
    tp_link flush_link;       /* worker->up_flush */
    /* HTTP/2 toward the upstream (h2_upstream.c; h2c, or TLS with ALPN h2): NULL for
     * HTTP/1.1. Such a connection stays on its pool's `pipes` list for its whole life, and
     * `ex` and the pipelining ring stay empty: its streams are in `streams`. */
    struct nghttp2_session *h2;
    tp_link streams;          /* its tp_up_streams */
    uint32_t h2_streams;
    uint8_t detached;         /* no socket (the upstream fuzz harness): writes dropped, bytes fed by tp_up_feed */
};

typedef struct {
    tp_link idle;
    uint32_t idle_count;
    tp_link pipes;            /* pipelined connections in use, which may take more requests */
    uint32_t pipe_count;
} tp_pool;

struct tp_worker {
    uv_loop_t loop;
    uv_async_t async;
    uv_timer_t sweep_timer;
    uv_timer_t tick_timer;
    uv_thread_t thread;
    uint32_t index;
    void *ctx;
    tp_callbacks cb;
    tp_worker_options opt;
    tp_link conns;
    tp_link ups;
    tp_link dirty;
    tp_link h2_flush;         /* HTTP/2 connections with output gathered this iteration */
    tp_link up_flush;         /* pipelined upstream connections with request heads to write */
    uv_prepare_t h2_prepare;  /* writes both, once per loop iteration, before polling */
    uv_idle_t h2_idle;        /* active while output is left over: the poll must not block */
    uv_tcp_t *listeners[16];
    uint32_t listener_ids[16];
    tp_tls_ctx *listener_tls[16];
    uint8_t listener_h2c[16];
    uint8_t tls_in[64 * 1024];  /* ciphertext read buffer, shared: one read at a time */
    tp_buf up_scratch;          /* upstream plaintext gathered into one TLS record */
    uint32_t listener_count;
    tp_pool *pools;
    uint32_t pool_count;
    uint64_t open_conns;
    uint64_t next_conn_id;
    uint32_t open_probes;
    uint8_t draining;
    uint8_t flushing;
    uint8_t detached_upstreams; /* new upstream connections get no socket (Fuzz/fuzz_upstream.c) */
    uint64_t drain_deadline_ns;
    uint64_t reject_counter;
    tp_buf scratch;           /* response assembly */
    tp_request_head req_head; /* parse target, reused */
    tp_response_head resp_head;
};

/* An exchange's upstream timeout (to the response head, and between body reads) in ns;
 * 29 s, API Gateway's integration limit, when the target sets none. */
static inline uint64_t tp_ex_upstream_timeout_ns(const tp_exchange *ex) {
    return (uint64_t)(ex->target.timeout_ms ? ex->target.timeout_ms : 29000) * 1000000ull;
}

/* The loop's cached clock (updated once per loop iteration) in ns: what deadlines use,
 * since a clock_gettime per deadline costs more than the precision is worth. */
static inline uint64_t tp_loop_ns(tp_worker *w) { return uv_now(&w->loop) * 1000000ull; }

/* Decimal / hex digits of v at p; returns the end. No locale, no printf. */
static inline char *tp_put_u64(char *p, uint64_t v) {
    char tmp[20];
    int n = 0;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) *p++ = tmp[--n];
    return p;
}
static inline char *tp_put_hex(char *p, uint64_t v) {
    static const char digits[] = "0123456789abcdef";
    char tmp[16];
    int n = 0;
    do { tmp[n++] = digits[v & 15]; v >>= 4; } while (v);
    while (n) *p++ = tmp[--n];
    return p;
}
static inline char *tp_put_str(char *p, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = s[i];
    return p + n;
}
#define TP_PUT_LIT(p, lit) tp_put_str((p), (lit), sizeof(lit) - 1)

/* Drops consumed bytes: moves data[*pos..*len) to the front (all of it when it is
 * consumed, or when `always`; otherwise only once little room is left at the end). */
static inline void tp_compact(uint8_t *data, size_t *pos, size_t *len, size_t cap, int always) {
    if (*pos == *len) {
        *pos = *len = 0;
    } else if (*pos > 0 && (always || cap - *len < 4096)) {
        memmove(data, data + *pos, *len - *pos);
        *len -= *pos;
        *pos = 0;
    }
}

/* write.c */
typedef void (*tp_write_done)(void *owner, int status);
/* Writes bufs in order: uv_try_write first, the rest copied and queued. Returns 0 or
 * a libuv error. *pending is incremented for a queued write; done(owner) runs when it
 * completes. */
int tp_stream_write(uv_stream_t *s, const uv_buf_t *bufs, unsigned n, uint32_t *pending,
                    tp_write_done done, void *owner);

/* client.c */
void tp_conn_accept(tp_worker *w, uv_stream_t *server, uint32_t listener_id, tp_tls_ctx *tls, int h2c);
void tp_conn_progress(tp_conn *c);
/* A connection with no socket (writes dropped, reads fed by the caller into rbuf), for
 * the fuzz harness: drive it with tp_conn_progress + tp_worker_flush_dirty. */
tp_conn *tp_conn_new_detached(tp_worker *w, int h2c);
void tp_conn_make_room(tp_conn *c);  /* compact, then grow the read buffer up to its limit */
void tp_conn_mark_dirty(tp_conn *c);
void tp_conn_close(tp_conn *c);
void tp_conn_sweep(tp_conn *c, uint64_t now);
int tp_conn_write(tp_conn *c, const uv_buf_t *bufs, unsigned n);      /* encrypts on TLS */
int tp_conn_write_raw(tp_conn *c, const uv_buf_t *bufs, unsigned n);  /* bytes as they are */
size_t tp_conn_write_queue(tp_conn *c);
void tp_ex_finish_response(tp_exchange *ex);
/* What an exchange's client side is — an HTTP/1.1 connection or an HTTP/2 stream —
 * hidden from upstream.c behind these. */
int tp_ex_write(tp_exchange *ex, const uv_buf_t *bufs, unsigned n);  /* response body bytes */
size_t tp_ex_client_queue(tp_exchange *ex);  /* response bytes not yet taken by the client */
void tp_ex_abort(tp_exchange *ex);           /* cut the response (truncated upstream body) */
void tp_ex_upstream_failed(tp_exchange *ex, tp_upstream_error kind);
uint16_t tp_head_status(const uint8_t *head, size_t len);
const char *tp_status_reason(uint16_t status);  /* reason phrases of the shim's own refusals */
void tp_conn_ensure_reading(tp_conn *c);

/* h2.c — HTTP/2 server side (nghttp2). A stream owns its exchange. */
int tp_h2_start(tp_conn *c);                 /* the connection now speaks HTTP/2; 0 or -1 */
void tp_h2_progress(tp_conn *c);
void tp_h2_close(tp_conn *c);                /* ends every stream's exchange */
void tp_h2_free(tp_conn *c);
uint32_t tp_h2_open_streams(const tp_conn *c);
void tp_h2_sweep(tp_conn *c, uint64_t now);     /* per-stream deadlines */
void tp_h2_flush_pending(tp_worker *w);          /* from the loop's prepare phase */
int tp_h2_respond(tp_exchange *ex, const uint8_t *head, size_t head_len, const uint8_t *body, size_t body_len);
int tp_h2_submit_head(tp_exchange *ex, int64_t content_length, int end_stream);
int tp_h2_write_body(tp_exchange *ex, const uv_buf_t *bufs, unsigned n);
void tp_h2_finish(tp_exchange *ex);
size_t tp_h2_queued(const tp_exchange *ex);
size_t tp_h2_body_peek(tp_exchange *ex, const uint8_t **data);
void tp_h2_body_consume(tp_exchange *ex, size_t n);
int tp_h2_body_eof(const tp_exchange *ex);
void tp_h2_abort(tp_exchange *ex);
/* The client connection preface (RFC 9113 §3.4). */
#define TP_H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define TP_H2_PREFACE_LEN 24

/* tls.c */
int tp_tls_conn_start(tp_conn *c, tp_tls_ctx *ctx);
int tp_tls_conn_pump(tp_conn *c);           /* ciphertext in rbio → plaintext in rbuf; <0: close */
int tp_tls_conn_write(tp_conn *c, const uv_buf_t *bufs, unsigned n);
void tp_tls_conn_close_notify(tp_conn *c);
void tp_tls_conn_free(tp_conn *c);
size_t tp_tls_conn_buffered(tp_conn *c);     /* ciphertext waiting in rbio */
/* Sends what a TLS engine's write BIO holds (through tp_stream_write), then empties it. */
int tp_tls_send_output(BIO *wbio, uv_stream_t *s, uint32_t *pending, tp_write_done done, void *owner);
/* Upstream side: a client SSL on memory BIOs for tp_up. */
SSL *tp_tls_client_ssl(tp_tls_client *c, BIO **rbio, BIO **wbio);

/* upstream.c */
void tp_up_begin(tp_exchange *ex);
void tp_up_pump_body(tp_exchange *ex);
/* request_body.c: moves body bytes from the read buffer into ex->body_buf and reports the
 * whole body to Swift once complete. Returns 1 when the callback was made. */
int tp_ex_buffer_body(tp_conn *c);
int tp_ex_buffer_body_h2(tp_exchange *ex);  /* the same for an HTTP/2 stream's DATA */
void tp_up_detach(tp_exchange *ex, int reusable);
void tp_up_client_drained(tp_exchange *ex);
void tp_up_sweep(tp_up *u, uint64_t now);
void tp_up_close(tp_up *u);
void tp_up_flush_pending(tp_worker *w);      /* from the loop's prepare phase */
void tp_up_schedule_flush(tp_up *u);         /* write u->out (and HTTP/2 frames) this iteration */
/* The fuzz harness's stand-in for a detached connection's socket: upstream bytes as one
 * read, or (len 0) the upstream closing. */
void tp_up_feed(tp_up *u, const uint8_t *data, size_t len);
void tp_up_capture(tp_exchange *ex, const uint8_t *data, size_t len);  /* body → Swift (cache fill) */
int tp_ex_resendable(const tp_exchange *ex); /* GET/HEAD/OPTIONS without a body */
int tp_ex_start_client_body(tp_exchange *ex, tp_body_mode mode, uint64_t remaining, int64_t head_length,
                            uint16_t status);

/* h2_upstream.c — HTTP/2 (h2c) toward upstreams, on nghttp2's client side. */
int tp_up_h2_init(tp_up *u);                 /* the session, SETTINGS queued; 0 or -1 */
void tp_up_h2_free(tp_up *u);
int tp_up_h2_has_room(tp_up *u, unsigned depth);
int tp_up_h2_submit(tp_up *u, tp_exchange *ex);   /* a stream for the exchange; 0 or -1 */
int tp_up_h2_produce(tp_up *u);              /* frames ready → u->out; -1: session failed */
int tp_up_h2_wants_write(tp_up *u);
int tp_up_h2_recv(tp_up *u, const uint8_t *data, size_t len);  /* -1: session failed */
void tp_up_h2_release(tp_up *u, tp_upstream_error kind);  /* the connection goes: streams end */
void tp_up_h2_detach(tp_exchange *ex);       /* the exchange leaves: its stream is cancelled */
void tp_up_h2_pump(tp_exchange *ex);         /* more request body from the client */
void tp_up_h2_client_drained(tp_exchange *ex);
void tp_up_h2_sweep(tp_up *u, uint64_t now);
tp_pool *tp_worker_pool(tp_worker *w, uint32_t endpoint_id);

/* worker.c */
void tp_worker_flush_dirty(tp_worker *w);
void tp_worker_conn_closed(tp_worker *w);
void tp_worker_request_id(tp_worker *w, char out[17]);

#endif
