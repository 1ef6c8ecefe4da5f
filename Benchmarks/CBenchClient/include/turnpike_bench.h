/*
 * turnpike_bench.h — the whole ABI of turnpike-bench's transport (the load generator).
 *
 * One tpb_worker is one uv_loop driving a share of the connections on the thread that
 * calls tpb_worker_run(). It speaks HTTP/1.1 (keep-alive, optional pipelining) or
 * HTTP/2 (nghttp2 client sessions, several streams per connection), in cleartext or
 * over TLS (OpenSSL memory BIOs, SNI, ALPN). It runs closed loop (every free slot sends
 * at once) or open loop at a fixed rate, where each request has an intended send time
 * on a fixed schedule and its latency is measured from that time, so a stall in the
 * server delays the queued requests and shows in the percentiles instead of slowing the
 * generator down (coordinated omission).
 *
 * Memory: tpb_worker_create() copies what it keeps of the config (request heads, bodies,
 * varied values). After that the per-request path allocates nothing of its own (nghttp2
 * allocates per stream inside the library).
 *
 * Threads: tpb_worker_run() and tpb_worker_stats() on one thread; tpb_worker_progress()
 * and tpb_worker_stop() from any thread.
 */
#ifndef TURNPIKE_BENCH_H
#define TURNPIKE_BENCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One header field sent with every request of a kind. */
typedef struct {
    const char *name;   /* NUL-terminated; lower-case it for HTTP/2 */
    const char *value;
} tpb_header;

/* One kind of request in the mix. */
typedef struct {
    const char *method;        /* "GET" */
    const char *path;          /* origin-form target: "/pets/7?x=1" */
    const tpb_header *headers; /* extra fields (not Host, Content-Length) */
    uint32_t header_count;
    const uint8_t *body;       /* may be NULL */
    uint32_t body_len;
    uint32_t weight;           /* relative share of the mix, >= 1 */
} tpb_request;

typedef struct {
    const char *ip;            /* numeric IPv4 or IPv6 address to connect to */
    uint16_t port;
    const char *authority;     /* Host / :authority value, e.g. "127.0.0.1:8080" */
    uint8_t tls;
    uint8_t http2;             /* HTTP/2: ALPN h2 over TLS, prior knowledge in cleartext */
    uint8_t insecure;          /* TLS: do not verify the server's certificate */
    const char *sni;           /* TLS: server name sent and verified; NULL: none */
    const char *ca_file;       /* TLS: PEM bundle to verify with; NULL: system store */

    uint32_t connections;      /* this worker's connections */
    uint32_t connection_base;  /* global index of its first one (picks varied values) */
    uint32_t pipeline;         /* HTTP/1.1 requests in flight per connection, >= 1 */
    uint32_t streams;          /* HTTP/2 streams in flight per connection, >= 1 */

    uint64_t start_ns;         /* uv_hrtime clock: when the schedule starts */
    uint64_t warmup_ns;        /* requests intended before start+warmup are not counted */
    uint64_t duration_ns;      /* counted window after the warm-up; 0 with a count */
    uint64_t count;            /* counted requests this worker makes; 0 with a duration */
    double rate;               /* open loop: this worker's requests/s; 0: closed loop */
    uint64_t timeout_ns;       /* a request (or connect) without an answer by then fails */

    const tpb_request *requests;
    uint32_t request_count;
    const char *vary_name;     /* a field whose value differs per connection, or NULL */
    const char *const *vary_values; /* connection i uses vary_values[i % vary_count] */
    uint32_t vary_count;
    uint64_t seed;             /* for the weighted mix */
} tpb_config;

/* Why a request failed. */
typedef enum {
    TPB_ERR_CONNECT = 0,   /* refused, unreachable, or connect timed out */
    TPB_ERR_TLS = 1,       /* handshake failed (certificate, protocol, ALPN) */
    TPB_ERR_READ = 2,      /* the connection was reset or closed before the response ended */
    TPB_ERR_WRITE = 3,     /* sending failed */
    TPB_ERR_TIMEOUT = 4,   /* no complete response within timeout_ns */
    TPB_ERR_PROTOCOL = 5,  /* unparseable response, HTTP/2 stream or session error */
    TPB_ERR_KINDS = 6
} tpb_error_kind;

#define TPB_STATUS_MAX 600

/* A worker's counts of its counted requests. */
typedef struct {
    uint64_t responses;                 /* complete responses (any status) */
    uint64_t bytes;                     /* bytes received (after TLS) in the window */
    uint64_t errors[TPB_ERR_KINDS];
    uint64_t status[TPB_STATUS_MAX];    /* responses by status code */
    uint64_t connects;                  /* connections established (all of the run) */
    uint64_t first_ns;                  /* start of the counted window */
    uint64_t last_ns;                   /* last counted outcome (count mode) or window end */
    uint64_t backlog_max;               /* open loop: most requests due but not yet sent */
} tpb_stats;

typedef struct tpb_worker tpb_worker;

/* Called on the worker's thread for every counted complete response, with its latency
 * (closed loop: from the moment it was written; open loop: from its intended time). */
typedef void (*tpb_record_fn)(void *ctx, uint64_t latency_ns);

/* Builds a worker (nothing runs yet). NULL on failure with a message in err. */
tpb_worker *tpb_worker_create(const tpb_config *config, tpb_record_fn record, void *ctx,
                              char *err, size_t err_len);

/* Runs the worker's loop on the calling thread until the count is done, the window
 * ends, or tpb_worker_stop(). Returns 0. */
int tpb_worker_run(tpb_worker *w);

/* Any thread: ask a running worker to stop as soon as it can. */
void tpb_worker_stop(tpb_worker *w);

/* Any thread, while running: counted responses and errors so far. */
uint64_t tpb_worker_progress(const tpb_worker *w);

/* After tpb_worker_run() returned. */
void tpb_worker_stats(const tpb_worker *w, tpb_stats *out);

void tpb_worker_free(tpb_worker *w);

/* Nanoseconds on uv_hrtime's clock. */
uint64_t tpb_now_ns(void);

#ifdef __cplusplus
}
#endif

#endif /* TURNPIKE_BENCH_H */
