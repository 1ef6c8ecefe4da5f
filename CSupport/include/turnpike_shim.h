/*
 * turnpike_shim.h — the whole ABI between the C transport and the Swift gateway.
 *
 * The shim owns sockets, buffers and protocol state; Swift owns decisions.
 *
 * Threads: every tp_worker runs one uv_loop on its own thread. Every callback in
 * tp_callbacks is called on that worker's loop thread, and every function taking a
 * tp_worker or tp_exchange must be called on that thread too — except
 * tp_worker_post(), which any thread may call.
 *
 * Memory: slices (tp_slice) point into buffers the shim owns. They are valid only for
 * the duration of the callback that hands them out; Swift copies what it keeps.
 * Buffers Swift passes in (response heads, upstream request heads) are copied by the
 * shim before the call returns. No Swift object is retained by C except the one opaque
 * `ctx` pointer per worker given to tp_worker_create().
 *
 * Naming: tp_<object>_<verb>; a handle is freed only in its close callback.
 */
#ifndef TURNPIKE_SHIM_H
#define TURNPIKE_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------- */
/* Byte slices                                                                       */
/* ------------------------------------------------------------------------------- */

/* A borrowed run of bytes. Not NUL-terminated. */
typedef struct {
    const uint8_t *ptr;
    uint32_t len;
} tp_slice;

/* One header field as it appeared on the wire (name case preserved, value with
 * leading/trailing whitespace removed). */
typedef struct {
    tp_slice name;
    tp_slice value;
} tp_header;

/* Most header fields one message may carry; more → 431 (requests) or 502 (responses). */
#define TP_MAX_HEADERS 100

/* ------------------------------------------------------------------------------- */
/* HTTP/1.1 parsing (pure functions: no I/O, no allocation)                          */
/* ------------------------------------------------------------------------------- */

typedef enum {
    TP_PARSE_DONE = 0,      /* a complete head was parsed; *head_len says how long */
    TP_PARSE_NEED_MORE = 1, /* the buffer holds a valid prefix of a head */
    TP_PARSE_ERROR = 2      /* invalid; *error_status says what to answer */
} tp_parse_result;

typedef struct {
    uint32_t max_request_line;  /* longer request line → 414 */
    uint32_t max_head_bytes;    /* longer head (line + fields + CRLFs) → 431 */
} tp_parse_limits;

typedef struct {
    tp_slice method;          /* a token, e.g. "GET" */
    tp_slice target;          /* the raw request-target */
    tp_slice path;            /* target up to '?' (origin-form) */
    tp_slice query;           /* after '?', excluding it; see has_query */
    tp_slice host;            /* the Host field's value (len 0 when absent) */
    int64_t content_length;   /* -1 when absent */
    uint8_t version_minor;    /* HTTP/1.<minor>: 0 or 1 */
    uint8_t has_query;        /* a '?' was present (query may still be empty) */
    uint8_t chunked;          /* Transfer-Encoding: chunked */
    uint8_t keep_alive;       /* persistent per version + Connection field */
    uint8_t expect_continue;  /* Expect: 100-continue */
    uint8_t upgrade;          /* Connection: upgrade with an Upgrade field */
    uint32_t header_count;
    tp_header headers[TP_MAX_HEADERS];
} tp_request_head;

/*
 * Parses one request head from buf[0..len). Strict per RFC 9112, and refuses
 * everything that enables request smuggling:
 *   400: bad request line, invalid token characters in method or field names, bare CR,
 *        obs-fold, whitespace before the colon, both Content-Length and
 *        Transfer-Encoding, differing or invalid Content-Length values, missing or
 *        repeated Host on HTTP/1.1, control characters in field values or target,
 *        chunked not last in Transfer-Encoding, too many fields (→ 431);
 *   414: request line longer than limits->max_request_line;
 *   431: head longer than limits->max_head_bytes, or more than TP_MAX_HEADERS fields;
 *   501: a Transfer-Encoding other than chunked;
 *   505: an HTTP version other than 1.0/1.1.
 * Leading empty lines (CRLF) before the request line are skipped (RFC 9112 §2.2) and
 * counted in *head_len.
 */
tp_parse_result tp_http1_parse_request(const uint8_t *buf, size_t len,
                                       const tp_parse_limits *limits,
                                       tp_request_head *out, size_t *head_len,
                                       uint16_t *error_status);

typedef struct {
    tp_slice reason;
    int64_t content_length;   /* -1 when absent */
    uint16_t status;          /* 100..999 */
    uint8_t version_minor;
    uint8_t chunked;
    uint8_t keep_alive;       /* the upstream may keep the connection open */
    uint32_t header_count;
    tp_header headers[TP_MAX_HEADERS];
} tp_response_head;

/* Parses one response head (status line + fields). Same strictness as requests;
 * any error is reported as TP_PARSE_ERROR (the caller answers 502). */
tp_parse_result tp_http1_parse_response(const uint8_t *buf, size_t len,
                                        const tp_parse_limits *limits,
                                        tp_response_head *out, size_t *head_len);

/* Incremental decoder of a chunked body (RFC 9112 §7.1), extensions and trailer
 * fields validated and dropped. Zero-initialise (or tp_chunked_init) before use. */
typedef struct {
    uint64_t remaining;   /* data bytes left in the current chunk */
    uint32_t line_len;    /* bytes of the current size/trailer line seen so far */
    uint8_t state;
    uint8_t saw_digit;
} tp_chunked_decoder;

typedef enum {
    TP_CHUNK_DATA = 0,      /* data, data_len: body bytes (pointing into buf) */
    TP_CHUNK_NEED_MORE = 1, /* all input consumed, no data to hand out */
    TP_CHUNK_DONE = 2,      /* the last chunk and trailers are complete */
    TP_CHUNK_ERROR = 3      /* malformed framing */
} tp_chunk_result;

void tp_chunked_init(tp_chunked_decoder *d);

/* Consumes from buf[0..len) and stops at the first run of data, at the end of the
 * body, or at the end of input. *consumed counts every byte used (framing and data).
 * Call again with the rest until NEED_MORE or DONE. */
tp_chunk_result tp_chunked_decode(tp_chunked_decoder *d, const uint8_t *buf, size_t len,
                                  size_t *consumed, const uint8_t **data, size_t *data_len);

/* ------------------------------------------------------------------------------- */
/* Workers and the exchange lifecycle                                                */
/* ------------------------------------------------------------------------------- */

typedef struct tp_worker tp_worker;
typedef struct tp_exchange tp_exchange;

/* What the shim knows of the connection a request came in on. */
typedef struct {
    char client_ip[46];       /* text form, NUL-terminated */
    uint16_t client_port;
    uint16_t local_port;
    uint32_t listener_id;     /* as given to tp_worker_listen */
    uint64_t connection_id;   /* unique per worker */
    uint32_t request_index;   /* 0 for the first request on the connection */
    uint8_t tls;              /* the connection is TLS */
    uint8_t tls_client_verified; /* a client certificate was presented and verified (mTLS) */
    char tls_server_name[256];   /* SNI, NUL-terminated ("" when none) */
    char tls_client_subject[256];/* the verified client certificate's subject (RFC 2253) */
    uint8_t http2;            /* the request is an HTTP/2 stream (ALPN h2 or h2c) */
} tp_conn_info;

/* Why an upstream exchange failed before a response head reached the client. */
typedef enum {
    TP_UPSTREAM_CONNECT_FAILED = 1,  /* refused/unreachable: never reached upstream */
    TP_UPSTREAM_CONNECT_TIMEOUT = 2, /* never reached the upstream */
    TP_UPSTREAM_RESET = 3,           /* closed or reset before a complete head */
    TP_UPSTREAM_BAD_RESPONSE = 4,    /* unparseable head or body framing */
    TP_UPSTREAM_TIMEOUT = 5,         /* no (complete) response within timeout_ms */
    TP_CLIENT_BODY_TOO_LARGE = 6,    /* request body exceeded max_body_bytes */
    TP_CLIENT_BODY_INVALID = 7       /* malformed chunked request body */
} tp_upstream_error;

/* How an exchange ended, for the access log and metrics. */
typedef struct {
    uint64_t start_ns;            /* head parsed (uv_hrtime clock) */
    uint64_t upstream_start_ns;   /* 0 when never proxied */
    uint64_t upstream_head_ns;    /* response head from upstream; 0 when none */
    uint64_t end_ns;              /* last byte handed to the kernel */
    uint64_t request_body_bytes;
    uint64_t response_body_bytes;
    uint16_t status;              /* status sent to the client; 0 when none */
    uint16_t upstream_status;     /* 0 when none */
    uint8_t aborted;              /* the client connection was cut mid-response */
    uint8_t attempts;             /* upstream connection attempts */
} tp_exchange_stats;

typedef struct {
    /* A request head arrived. Swift must, before returning or later on this thread,
     * call exactly one of tp_exchange_respond() or tp_exchange_proxy(). */
    void (*on_request)(void *ctx, tp_exchange *ex, const tp_request_head *head,
                       const tp_conn_info *info);
    /* The upstream's final response head arrived. Swift must call
     * tp_exchange_send_head() before returning (or tp_exchange_respond() to replace
     * the response, e.g. 502 for a status it refuses). */
    void (*on_upstream_head)(void *ctx, tp_exchange *ex, const tp_response_head *head);
    /* The upstream exchange failed before anything was sent to the client. Swift
     * calls tp_exchange_retry() (only for CONNECT_* kinds) or tp_exchange_respond(). */
    void (*on_upstream_error)(void *ctx, tp_exchange *ex, tp_upstream_error kind);
    /* The exchange is over; `ex` is invalid after this returns. */
    void (*on_exchange_end)(void *ctx, tp_exchange *ex, const tp_exchange_stats *stats);
    /* tp_worker_post() was called, or a tick elapsed (see tp_worker_options). */
    void (*on_wakeup)(void *ctx);
    void (*on_tick)(void *ctx);
    /* A health probe finished: status is the HTTP status, or 0 on any failure. */
    void (*on_probe_result)(void *ctx, uint64_t token, uint16_t status);
    /* A piece of the response body relayed to the client, for an exchange that asked
     * with tp_exchange_capture_body(). data == NULL marks the end of the body; a body
     * that outgrows the capture limit is reported once with data == NULL and len == 1
     * (give up), and not again. */
    void (*on_upstream_body)(void *ctx, tp_exchange *ex, const uint8_t *data, size_t len);
    /* The whole request body an exchange asked for with tp_exchange_read_body(), status 0;
     * or status 413 (longer than max_bytes) or 400 (malformed chunked framing) with no
     * data. `data` is valid during the call only. Swift then answers the exchange
     * (tp_exchange_respond), now or later on this thread. */
    void (*on_request_body)(void *ctx, tp_exchange *ex, const uint8_t *data, size_t len, uint16_t status);
} tp_callbacks;

typedef struct {
    tp_parse_limits limits;
    uint64_t max_body_bytes;          /* request bodies larger → TP_CLIENT_BODY_TOO_LARGE */
    uint32_t keepalive_timeout_ms;    /* idle client connections are closed after it */
    uint32_t header_timeout_ms;       /* a started head must complete within it */
    uint32_t upstream_idle_timeout_ms;/* idle pooled upstream connections closed after it */
    uint32_t tick_ms;                 /* on_tick period; 0 = never */
    /* HTTP/2 (RFC 9113 SETTINGS). The header list limit is limits.max_head_bytes. */
    uint32_t h2_max_concurrent_streams; /* 0 → 128 */
    uint32_t h2_initial_window_size;    /* per-stream request body window; 0 → 65535 */
} tp_worker_options;

/* Creates a worker (its loop is not running yet). Returns NULL on failure. */
tp_worker *tp_worker_create(uint32_t index, void *ctx, const tp_callbacks *callbacks,
                            const tp_worker_options *options);

/* Adds a listening socket. reuseport: SO_REUSEPORT so that every worker has its own
 * socket on the same port. Call before tp_worker_start(). Returns 0 or -errno. */
int tp_worker_listen(tp_worker *w, const char *host, uint16_t port, uint32_t listener_id,
                     int reuseport);

/* Before tp_worker_start: the cleartext listener with this id also accepts HTTP/2
 * with prior knowledge (h2c: the client opens with the HTTP/2 connection preface). */
void tp_worker_set_h2c(tp_worker *w, uint32_t listener_id, int enabled);

/* Starts the worker's thread and loop. Returns 0 or -errno. */
int tp_worker_start(tp_worker *w);

/* Waits for the worker's thread to end, then frees the worker. */
void tp_worker_join(tp_worker *w);

/* Any thread: wakes the loop, which calls on_wakeup. Coalesces like uv_async_send. */
void tp_worker_post(tp_worker *w);

/* Loop thread: stop accepting, close idle connections, let every connection finish
 * its current exchange (answering with Connection: close), then end the loop. After
 * timeout_ms, whatever is left is closed. */
void tp_worker_drain(tp_worker *w, uint32_t timeout_ms);

/* Loop thread: counts for metrics and tests. */
uint64_t tp_worker_open_connections(const tp_worker *w);
uint64_t tp_worker_pooled_upstreams(const tp_worker *w);

/* Nanoseconds on the monotonic clock (uv_hrtime); a clock read each call. */
uint64_t tp_now_ns(void);

/* Loop thread: the loop's cached time on the same clock, refreshed once per loop
 * iteration — free to read, precise to a millisecond. */
uint64_t tp_worker_now_ns(const tp_worker *w);

/* ------------------------------------------------------------------------------- */
/* Answering an exchange                                                             */
/* ------------------------------------------------------------------------------- */

/*
 * HTTP/2 (h2.c, nghttp2): each stream is an exchange, with the same callbacks and calls
 * as an HTTP/1.1 request. The request head Swift sees is built from the pseudo-header
 * fields (:method, :path, :authority → host; a host field is added when only
 * :authority came), cookie fields joined with "; " (RFC 9113 §8.2.3), version_minor 1
 * and info->http2 set. Heads Swift passes (status line + fields, as for HTTP/1.1) are
 * converted: names lower-cased, connection-specific fields dropped, content-length set
 * by the shim. Request bodies are forwarded upstream as they arrive; the stream's flow
 * control window is only reopened as bytes leave, and a slow client pauses the
 * upstream read, so neither direction buffers more than a window or a high-water mark.
 * Protections: SETTINGS_MAX_CONCURRENT_STREAMS and MAX_HEADER_LIST_SIZE advertised and
 * enforced (an oversized header list → 431; a decoded list far past it → the
 * connection ends: HPACK bomb), a cap on CONTINUATION frames per header block, and
 * token buckets on client stream resets (rapid reset, CVE-2023-44487) and on
 * control frames (SETTINGS, PING, PRIORITY, empty DATA floods): GOAWAY
 * ENHANCE_YOUR_CALM and the connection closes.
 */

/* Swift's own per-exchange word (e.g. an index into its state table). */
void tp_exchange_set_user(tp_exchange *ex, uint64_t value);
uint64_t tp_exchange_user(const tp_exchange *ex);

/* The worker an exchange belongs to. */
tp_worker *tp_exchange_worker(const tp_exchange *ex);

#define TP_RESPOND_CLOSE 1   /* close the connection after this response */

/* Sends a complete response. `head` is the status line and header fields, each line
 * ending in CRLF, WITHOUT framing fields (Content-Length, Transfer-Encoding,
 * Connection) and without the blank line: the shim adds those. An unread request body
 * is discarded (or the connection closed when that would be costly). */
void tp_exchange_respond(tp_exchange *ex, const uint8_t *head, size_t head_len,
                         const uint8_t *body, size_t body_len, int flags);

/* TLS toward an upstream: trust store, the name to verify and send as SNI, an
 * optional client certificate. Reference counted like tp_tls_ctx; a target holds a
 * borrowed pointer that must stay valid while requests use it. */
typedef struct tp_tls_client tp_tls_client;

/* Any thread. ca_file NULL: the system's trust store. server_name: SNI and the name (or
 * IP address) the certificate must match. chain/key NULL: no client certificate.
 * NULL on failure with a message in err. */
tp_tls_client *tp_tls_client_new(const char *ca_file, const char *server_name, const char *chain_pem_path,
                                 const char *key_pem_path, char *err, size_t err_len);
void tp_tls_client_retain(tp_tls_client *c);
void tp_tls_client_release(tp_tls_client *c);

/* Where to send a proxied request. */
typedef struct {
    uint8_t addr[28];            /* a struct sockaddr_in or sockaddr_in6 */
    uint32_t endpoint_id;        /* pool key: connections are reused per id */
    uint32_t connect_timeout_ms;
    uint32_t timeout_ms;         /* to the response head, and between body reads */
    uint32_t max_idle;           /* idle connections kept for this endpoint */
    tp_tls_client *tls;          /* NULL: plain HTTP */
    /* HTTP/1.1 pipelining toward the endpoint: up to this many requests in flight on one
     * connection, written together once per loop iteration. Only bodiless GET, HEAD and
     * OPTIONS requests over plain HTTP are pipelined (they are safe to send again when a
     * connection closes under them); 0 or 1: one request per connection at a time. */
    uint32_t pipeline_depth;
    /* HTTP/2 toward the endpoint, for every request: h2c with prior knowledge over plain
     * HTTP, ALPN h2 over TLS. Up to pipeline_depth streams per connection (0: 100). */
    uint8_t http2;
} tp_upstream_target;

/* Fills target->addr from a numeric IPv4/IPv6 address. Returns 0 or -EINVAL. */
int tp_target_set_addr(tp_upstream_target *target, const char *ip, uint16_t port);

/* Proxies the request: `head` is the request line and header fields for the
 * upstream (each line ending in CRLF, without framing fields and without the blank
 * line); the shim adds Content-Length or Transfer-Encoding: chunked to match the
 * client's body, streams the body, and keeps a copy of `head` for a retry. */
void tp_exchange_proxy(tp_exchange *ex, const tp_upstream_target *target,
                       const uint8_t *head, size_t head_len);

/* From on_upstream_error with a CONNECT_* kind only: try again at another endpoint. */
void tp_exchange_retry(tp_exchange *ex, const tp_upstream_target *target);

/* Before or during on_upstream_head: also hand the response body to Swift
 * (on_upstream_body) as it is relayed, up to max_bytes — e.g. to store it in a cache. */
void tp_exchange_capture_body(tp_exchange *ex, uint64_t max_bytes);

/* From on_request (or later, before answering): read the whole request body into a
 * buffer the shim owns (Content-Length or chunked; "100 Continue" sent when asked for)
 * and hand it to on_request_body, for integrations that need the body before they can
 * start (Lambda events). Answering the exchange stays Swift's job. A body that has not
 * arrived whole within header_timeout_ms closes the connection (no callback; the
 * exchange ends through on_exchange_end). */
void tp_exchange_read_body(tp_exchange *ex, uint64_t max_bytes);

/* From on_upstream_head only: the head to send to the client (status line and fields,
 * no framing fields, no blank line). The shim frames and streams the body. */
void tp_exchange_send_head(tp_exchange *ex, const uint8_t *head, size_t head_len);

/* ------------------------------------------------------------------------------- */
/* TLS termination (OpenSSL 3, memory BIOs over the libuv stream)                    */
/* ------------------------------------------------------------------------------- */

/* A listener's TLS setup: certificates by server name (SNI), a default certificate,
 * optional client-certificate verification per name. Reference counted: a listener
 * and each of its connections hold a reference, so a reload that installs a new
 * context never disturbs connections that started on the old one. */
typedef struct tp_tls_ctx tp_tls_ctx;

typedef struct {
    uint8_t min_tls13;            /* 0: TLS 1.2 and 1.3; 1: TLS 1.3 only */
    uint8_t refuse_unknown_names; /* an SNI name without a certificate fails the handshake */
    uint8_t alpn_h2;              /* offer h2 in ALPN (then http/1.1) */
} tp_tls_options;

/* Any thread. NULL on failure, with a message in err. The caller owns one reference. */
tp_tls_ctx *tp_tls_ctx_new(const tp_tls_options *options, char *err, size_t err_len);

/* Any thread, before the context is given to a worker. server_name is an exact name
 * ("api.example.com"), a wildcard one label deep ("*.example.com"), or NULL for the
 * default certificate. client_ca: PEM bundle that client certificates must chain to
 * (mutual TLS for that name), or NULL. Returns 0, or -1 with a message in err. */
int tp_tls_ctx_add(tp_tls_ctx *ctx, const char *server_name, const char *chain_pem_path,
                   const char *key_pem_path, const char *client_ca_pem_path, char *err, size_t err_len);

/* Any thread, after tp_tls_ctx_add for the same name (NULL: the default certificate):
 * staple the DER OCSP response in der_path (e.g. from `openssl ocsp -respout`) to
 * handshakes for that certificate whose client asks for status. The file is read now;
 * a newer response takes a reload. Returns 0, or -1 with a message in err. */
int tp_tls_ctx_set_ocsp_staple(tp_tls_ctx *ctx, const char *server_name, const char *der_path,
                               char *err, size_t err_len);

void tp_tls_ctx_retain(tp_tls_ctx *ctx);
void tp_tls_ctx_release(tp_tls_ctx *ctx);

/* Before tp_worker_start, or on the loop thread: TLS for connections accepted from
 * now on by the listener with this id (NULL: plain). The worker takes its own
 * reference and releases the previous context. */
void tp_worker_set_tls(tp_worker *w, uint32_t listener_id, tp_tls_ctx *ctx);

/* ------------------------------------------------------------------------------- */
/* Health probes                                                                     */
/* ------------------------------------------------------------------------------- */

/* Sends `request` (a complete HTTP/1.1 request with Connection: close) to target on a
 * fresh connection and reports the response status through on_probe_result(token). */
void tp_worker_probe(tp_worker *w, const tp_upstream_target *target,
                     const uint8_t *request, size_t request_len, uint64_t token);

/* ------------------------------------------------------------------------------- */
/* Public keys and signature checks (crypto.c; OpenSSL 3)                            */
/* ------------------------------------------------------------------------------- */

/*
 * A public key built from a JSON Web Key's parameters (RFC 7517/7518), for checking
 * JWS signatures. Immutable once built: any number of threads may call
 * tp_pubkey_verify() on one key at the same time (each call uses its own digest
 * context). Freed with tp_pubkey_free() once no thread uses it any more.
 */
typedef struct tp_pubkey tp_pubkey;

/* What a key is, which decides the algorithms it may verify. */
typedef enum {
    TP_KEY_RSA = 1,      /* kty RSA: RS256/384/512, PS256 */
    TP_KEY_EC_P256 = 2,  /* kty EC, crv P-256: ES256 */
    TP_KEY_EC_P384 = 3,  /* kty EC, crv P-384: ES384 */
    TP_KEY_ED25519 = 4   /* kty OKP, crv Ed25519: EdDSA */
} tp_key_kind;

/* JWS algorithms (RFC 7518 §3, RFC 8037 §3.1). HS* and none are deliberately absent. */
typedef enum {
    TP_ALG_RS256 = 1,
    TP_ALG_RS384 = 2,
    TP_ALG_RS512 = 3,
    TP_ALG_PS256 = 4,   /* RSASSA-PSS, MGF1 with SHA-256, salt length 32 */
    TP_ALG_ES256 = 5,   /* signature: raw r||s, 64 bytes */
    TP_ALG_ES384 = 6,   /* signature: raw r||s, 96 bytes */
    TP_ALG_EDDSA = 7    /* Ed25519 only */
} tp_sig_alg;

/* An RSA public key from the big-endian bytes of its modulus n and exponent e
 * (leading zero bytes allowed). Refuses moduli under 2048 bits (RFC 7518 §3.3) or
 * over 16384 bits, and even or tiny exponents. Returns NULL on refusal. */
tp_pubkey *tp_pubkey_new_rsa(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len);

/* An EC public key on P-256 or P-384 (kind TP_KEY_EC_P256/P384) from its affine
 * coordinates, each exactly the curve's field size (32 or 48 bytes). Refuses points
 * not on the curve. Returns NULL on refusal. */
tp_pubkey *tp_pubkey_new_ec(tp_key_kind kind, const uint8_t *x, size_t x_len,
                            const uint8_t *y, size_t y_len);

/* An Ed25519 public key from its 32 bytes. Returns NULL on refusal. */
tp_pubkey *tp_pubkey_new_ed25519(const uint8_t *x, size_t x_len);

/* The kind a key was built as. */
tp_key_kind tp_pubkey_kind(const tp_pubkey *key);

/* Frees a key (NULL is ignored). No other thread may be using it. */
void tp_pubkey_free(tp_pubkey *key);

/* Any thread: checks a JWS signature over msg (the ASCII "header.payload").
 * Returns 1 when the signature is valid, 0 when it is not, -1 when alg cannot be
 * used with this kind of key (algorithm confusion) or on an internal failure.
 * Never allocates more than a digest context and, for ES*, a DER signature. */
int tp_pubkey_verify(const tp_pubkey *key, tp_sig_alg alg, const uint8_t *msg,
                     size_t msg_len, const uint8_t *sig, size_t sig_len);

/* Any thread: SHA-256 of data, and HMAC-SHA256 of data under key (32 bytes out), for
 * AWS Signature Version 4 (requests to a remote Lambda Invoke API). */
void tp_sha256(const uint8_t *data, size_t len, uint8_t out[32]);
void tp_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len, uint8_t out[32]);

/* ------------------------------------------------------------------------------- */
/* Blocking HTTP(S) GET (fetch.c) — background threads only, never a loop thread     */
/* ------------------------------------------------------------------------------- */

/* Why tp_fetch() failed (negative return values). */
typedef enum {
    TP_FETCH_BAD_URL = -1,      /* not http(s)://host[:port][/path], or too long */
    TP_FETCH_RESOLVE = -2,      /* the host name did not resolve */
    TP_FETCH_CONNECT = -3,      /* no address accepted a connection */
    TP_FETCH_TLS = -4,          /* handshake failed: certificate, host name, protocol */
    TP_FETCH_TIMEOUT = -5,      /* timeout_ms elapsed */
    TP_FETCH_IO = -6,           /* the connection broke before the response ended */
    TP_FETCH_BAD_RESPONSE = -7, /* unparseable status line, fields or body framing */
    TP_FETCH_TOO_LARGE = -8,    /* the body exceeds TP_FETCH_MAX_BODY */
    TP_FETCH_NOMEM = -9
} tp_fetch_error;

/* Largest body tp_fetch() accepts. */
#define TP_FETCH_MAX_BODY (1024u * 1024u)

/*
 * GETs url (http:// or https://) on a fresh connection with Connection: close and
 * blocks until the whole response is read or timeout_ms (for the whole exchange)
 * elapses. https: TLS 1.2+, SNI, and the peer's certificate chain and host name (or
 * IP address) verified against ca_file (a PEM bundle), or the system's default
 * trust store when ca_file is NULL. Redirects are not followed (a 3xx is returned
 * as is). Content-Length, chunked and close-delimited bodies are read.
 * On success returns 0, sets *status, and *body / *body_len to a malloc'd copy of
 * the body (never NULL; free it with tp_fetch_free). On failure returns a
 * tp_fetch_error and leaves *body NULL.
 */
int tp_fetch(const char *url, const char *ca_file, uint32_t timeout_ms, uint16_t *status,
             uint8_t **body, size_t *body_len);

/* Frees a body tp_fetch() returned (NULL is ignored). */
void tp_fetch_free(uint8_t *body);

/* A constant, human-readable name for a tp_fetch_error, for log lines. */
const char *tp_fetch_error_string(int error);

#ifdef __cplusplus
}
#endif

#endif /* TURNPIKE_SHIM_H */
