/*
 * fetch.c — a small blocking HTTP(S) GET for background threads (JWKS and OpenID
 * discovery documents). Never called on a loop thread: it blocks for up to its
 * timeout.
 *
 * The socket is non-blocking and every wait is a poll() bounded by one deadline for
 * the whole exchange, so a peer that trickles bytes cannot hold the caller past it.
 * Response heads are parsed by the shim's own strict parser and chunked bodies by
 * its chunked decoder, so framing is held to the same rules as upstream responses.
 */
#include "internal.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define MAX_URL 4096u
#define MAX_HOST 256u
#define MAX_HEAD (64u * 1024u)
#define READ_CHUNK (16u * 1024u)

typedef struct {
    int tls;
    char host[MAX_HOST];   /* without brackets for IPv6 literals */
    char port[6];
    const char *path;      /* points into the url; "" means "/" */
    size_t path_len;
    int host_is_ip;
    int bracketed;
} parsed_url;

typedef struct {
    int fd;
    SSL_CTX *ssl_ctx;
    SSL *ssl;
    uint64_t deadline_ms;
} fetch_conn;

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int prefix_ci(const char *s, const char *prefix) {
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static int parse_url(const char *url, parsed_url *out) {
    size_t len = strnlen(url, MAX_URL + 1);
    if (len > MAX_URL) return TP_FETCH_BAD_URL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f) return TP_FETCH_BAD_URL;
    }
    const char *p;
    if (prefix_ci(url, "https://")) {
        out->tls = 1;
        p = url + 8;
    } else if (prefix_ci(url, "http://")) {
        out->tls = 0;
        p = url + 7;
    } else {
        return TP_FETCH_BAD_URL;
    }
    const char *auth_end = p + strcspn(p, "/?#");
    if (memchr(p, '@', (size_t)(auth_end - p)) != NULL) return TP_FETCH_BAD_URL;

    const char *host = p, *host_end, *port = NULL;
    out->bracketed = 0;
    if (*p == '[') {
        host = p + 1;
        host_end = memchr(host, ']', (size_t)(auth_end - host));
        if (host_end == NULL) return TP_FETCH_BAD_URL;
        if (host_end + 1 < auth_end) {
            if (host_end[1] != ':') return TP_FETCH_BAD_URL;
            port = host_end + 2;
        }
        out->bracketed = 1;
    } else {
        host_end = memchr(host, ':', (size_t)(auth_end - host));
        if (host_end != NULL) port = host_end + 1;
        else host_end = auth_end;
    }
    size_t host_len = (size_t)(host_end - host);
    if (host_len == 0 || host_len >= MAX_HOST) return TP_FETCH_BAD_URL;
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';

    if (port != NULL) {
        size_t port_len = (size_t)(auth_end - port);
        if (port_len == 0 || port_len > 5) return TP_FETCH_BAD_URL;
        unsigned value = 0;
        for (size_t i = 0; i < port_len; i++) {
            if (port[i] < '0' || port[i] > '9') return TP_FETCH_BAD_URL;
            value = value * 10 + (unsigned)(port[i] - '0');
        }
        if (value == 0 || value > 65535) return TP_FETCH_BAD_URL;
        memcpy(out->port, port, port_len);
        out->port[port_len] = '\0';
    } else {
        strcpy(out->port, out->tls ? "443" : "80");
    }

    out->path = auth_end;
    out->path_len = strcspn(auth_end, "#");

    unsigned char addr[16];
    out->host_is_ip = inet_pton(AF_INET, out->host, addr) == 1 ||
                      inet_pton(AF_INET6, out->host, addr) == 1;
    if (out->bracketed && !out->host_is_ip) return TP_FETCH_BAD_URL;
    return 0;
}

/* Waits until fd is ready for `events` or the deadline passes. */
static int wait_fd(const fetch_conn *c, short events) {
    for (;;) {
        uint64_t now = now_ms();
        if (now >= c->deadline_ms) return TP_FETCH_TIMEOUT;
        uint64_t left = c->deadline_ms - now;
        struct pollfd pfd = {.fd = c->fd, .events = events};
        int r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
        if (r > 0) return 0;
        if (r < 0 && errno != EINTR) return TP_FETCH_IO;
    }
}

static int connect_one(fetch_conn *c, const struct addrinfo *ai) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) return TP_FETCH_CONNECT;
    int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        close(fd);
        return TP_FETCH_CONNECT;
    }
    c->fd = fd;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) return 0;
    if (errno != EINPROGRESS) goto fail;
    int w = wait_fd(c, POLLOUT);
    if (w != 0) {
        close(fd);
        c->fd = -1;
        return w;
    }
    int err = 0;
    socklen_t err_len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) == 0 && err == 0) return 0;
fail:
    close(fd);
    c->fd = -1;
    return TP_FETCH_CONNECT;
}

static int open_tcp(fetch_conn *c, const parsed_url *u) {
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = u->host_is_ip ? AI_NUMERICHOST : 0;
    if (getaddrinfo(u->host, u->port, &hints, &res) != 0 || res == NULL) return TP_FETCH_RESOLVE;
    int r = TP_FETCH_CONNECT;
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        r = connect_one(c, ai);
        if (r == 0 || r == TP_FETCH_TIMEOUT) break;
    }
    freeaddrinfo(res);
    return r;
}

/* Waits as OpenSSL asks after a non-blocking call returned `ret`; an error otherwise. */
static int ssl_wait(fetch_conn *c, int ret) {
    switch (SSL_get_error(c->ssl, ret)) {
    case SSL_ERROR_WANT_READ: return wait_fd(c, POLLIN);
    case SSL_ERROR_WANT_WRITE: return wait_fd(c, POLLOUT);
    default: return TP_FETCH_IO;
    }
}

static int open_tls(fetch_conn *c, const parsed_url *u, const char *ca_file) {
    c->ssl_ctx = SSL_CTX_new(TLS_client_method());
    if (c->ssl_ctx == NULL) return TP_FETCH_NOMEM;
    SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_PEER, NULL);
    int loaded = ca_file != NULL ? SSL_CTX_load_verify_locations(c->ssl_ctx, ca_file, NULL)
                                 : SSL_CTX_set_default_verify_paths(c->ssl_ctx);
    if (loaded != 1) return TP_FETCH_TLS;
    c->ssl = SSL_new(c->ssl_ctx);
    if (c->ssl == NULL) return TP_FETCH_NOMEM;
    if (u->host_is_ip) {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), u->host) != 1) return TP_FETCH_TLS;
    } else if (SSL_set_tlsext_host_name(c->ssl, u->host) != 1 || SSL_set1_host(c->ssl, u->host) != 1) {
        return TP_FETCH_TLS;
    }
    if (SSL_set_fd(c->ssl, c->fd) != 1) return TP_FETCH_TLS;
    for (;;) {
        int r = SSL_connect(c->ssl);
        if (r == 1) break;
        int w = ssl_wait(c, r);
        if (w == TP_FETCH_TIMEOUT) return w;
        if (w != 0) return TP_FETCH_TLS;
    }
    return SSL_get_verify_result(c->ssl) == X509_V_OK ? 0 : TP_FETCH_TLS;
}

static int write_all(fetch_conn *c, const uint8_t *p, size_t len) {
    while (len > 0) {
        if (c->ssl != NULL) {
            size_t n = 0;
            int r = SSL_write_ex(c->ssl, p, len, &n);
            if (r == 1) {
                p += n, len -= n;
                continue;
            }
            int w = ssl_wait(c, r);
            if (w != 0) return w;
        } else {
            ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
            if (n > 0) {
                p += n, len -= (size_t)n;
                continue;
            }
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return TP_FETCH_IO;
            int w = wait_fd(c, POLLOUT);
            if (w != 0) return w;
        }
    }
    return 0;
}

/* Reads what is available (waiting for at least one byte). Returns the count, 0 at
 * a clean end of stream, or a tp_fetch_error. */
static long read_some(fetch_conn *c, uint8_t *buf, size_t cap) {
    for (;;) {
        if (c->ssl != NULL) {
            size_t n = 0;
            int r = SSL_read_ex(c->ssl, buf, cap, &n);
            if (r == 1) return (long)n;
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_ZERO_RETURN) return 0;
            int w = ssl_wait(c, r);
            if (w != 0) return w;
        } else {
            ssize_t n = recv(c->fd, buf, cap, 0);
            if (n >= 0) return (long)n;
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return TP_FETCH_IO;
            int w = wait_fd(c, POLLIN);
            if (w != 0) return w;
        }
    }
}

static int append_body(tp_buf *body, const uint8_t *p, size_t n) {
    if (body->len + n > TP_FETCH_MAX_BODY) return TP_FETCH_TOO_LARGE;
    return tp_buf_append(body, p, n) == 0 ? 0 : TP_FETCH_NOMEM;
}

/* Reads and parses the head (skipping interim 1xx heads). On return, in->data holds
 * the head's leftover bytes from in->len - *leftover onward. */
static int read_head(fetch_conn *c, tp_buf *in, tp_response_head *head, size_t *leftover) {
    static const tp_parse_limits limits = {.max_request_line = 8192, .max_head_bytes = MAX_HEAD};
    size_t start = 0;
    for (;;) {
        size_t head_len = 0;
        tp_parse_result pr = TP_PARSE_NEED_MORE;
        if (in->len > start)
            pr = tp_http1_parse_response(in->data + start, in->len - start, &limits, head, &head_len);
        if (pr == TP_PARSE_ERROR) return TP_FETCH_BAD_RESPONSE;
        if (pr == TP_PARSE_DONE) {
            start += head_len;
            if (head->status >= 100 && head->status < 200) continue;
            *leftover = in->len - start;
            return 0;
        }
        if (in->len - start >= MAX_HEAD) return TP_FETCH_BAD_RESPONSE;
        if (tp_buf_reserve(in, in->len + READ_CHUNK) != 0) return TP_FETCH_NOMEM;
        long n = read_some(c, in->data + in->len, READ_CHUNK);
        if (n < 0) return (int)n;
        if (n == 0) return TP_FETCH_IO;
        in->len += (size_t)n;
    }
}

static int read_body(fetch_conn *c, const tp_response_head *head, const uint8_t *pending,
                     size_t pending_len, tp_buf *body) {
    if (head->status == 204 || head->status == 304) return 0;
    uint8_t buf[READ_CHUNK];
    if (head->chunked) {
        tp_chunked_decoder d;
        tp_chunked_init(&d);
        const uint8_t *p = pending;
        size_t left = pending_len;
        for (;;) {
            while (left > 0) {
                size_t used = 0, data_len = 0;
                const uint8_t *data = NULL;
                tp_chunk_result r = tp_chunked_decode(&d, p, left, &used, &data, &data_len);
                p += used, left -= used;
                if (r == TP_CHUNK_ERROR) return TP_FETCH_BAD_RESPONSE;
                if (r == TP_CHUNK_DONE) return 0;
                if (r == TP_CHUNK_DATA) {
                    int a = append_body(body, data, data_len);
                    if (a != 0) return a;
                }
                if (r == TP_CHUNK_NEED_MORE) break;
            }
            long n = read_some(c, buf, sizeof buf);
            if (n < 0) return (int)n;
            if (n == 0) return TP_FETCH_IO;
            p = buf;
            left = (size_t)n;
        }
    }
    if (head->content_length >= 0) {
        if ((uint64_t)head->content_length > TP_FETCH_MAX_BODY) return TP_FETCH_TOO_LARGE;
        size_t want = (size_t)head->content_length;
        size_t take = pending_len < want ? pending_len : want;
        int a = append_body(body, pending, take);
        while (a == 0 && body->len < want) {
            long n = read_some(c, buf, sizeof buf);
            if (n < 0) return (int)n;
            if (n == 0) return TP_FETCH_IO;
            size_t room = want - body->len;
            a = append_body(body, buf, (size_t)n < room ? (size_t)n : room);
        }
        return a;
    }
    /* No framing: the body ends when the server closes the connection. */
    int a = append_body(body, pending, pending_len);
    while (a == 0) {
        long n = read_some(c, buf, sizeof buf);
        if (n < 0) return (int)n;
        if (n == 0) return 0;
        a = append_body(body, buf, (size_t)n);
    }
    return a;
}

static int build_request(const parsed_url *u, tp_buf *out) {
    static const char prefix[] = "GET ";
    static const char mid[] = " HTTP/1.1\r\nHost: ";
    static const char tail[] =
        "\r\nUser-Agent: turnpike\r\nAccept: application/json\r\nConnection: close\r\n\r\n";
    int default_port = strcmp(u->port, u->tls ? "443" : "80") == 0;
    int ok = tp_buf_append(out, prefix, sizeof prefix - 1) == 0 &&
             (u->path_len == 0 || u->path[0] != '/' ? tp_buf_append(out, "/", 1) == 0 : 1) &&
             tp_buf_append(out, u->path, u->path_len) == 0 &&
             tp_buf_append(out, mid, sizeof mid - 1) == 0 &&
             (!u->bracketed || tp_buf_append(out, "[", 1) == 0) &&
             tp_buf_append(out, u->host, strlen(u->host)) == 0 &&
             (!u->bracketed || tp_buf_append(out, "]", 1) == 0) &&
             (default_port || (tp_buf_append(out, ":", 1) == 0 &&
                               tp_buf_append(out, u->port, strlen(u->port)) == 0)) &&
             tp_buf_append(out, tail, sizeof tail - 1) == 0;
    return ok ? 0 : TP_FETCH_NOMEM;
}

int tp_fetch(const char *url, const char *ca_file, uint32_t timeout_ms, uint16_t *status,
             uint8_t **body, size_t *body_len) {
    if (body != NULL) *body = NULL;
    if (body_len != NULL) *body_len = 0;
    if (url == NULL || status == NULL || body == NULL || body_len == NULL) return TP_FETCH_BAD_URL;

    parsed_url u;
    int r = parse_url(url, &u);
    if (r != 0) return r;

    fetch_conn c = {.fd = -1, .deadline_ms = now_ms() + timeout_ms};
    tp_buf request = {0}, in = {0}, out = {0};
    tp_response_head *head = malloc(sizeof *head);
    if (head == NULL) return TP_FETCH_NOMEM;

    size_t leftover = 0;
    r = build_request(&u, &request);
    if (r == 0) r = open_tcp(&c, &u);
    if (r == 0 && u.tls) r = open_tls(&c, &u, ca_file);
    if (r == 0) r = write_all(&c, request.data, request.len);
    if (r == 0) r = read_head(&c, &in, head, &leftover);
    if (r == 0) r = read_body(&c, head, in.data + in.len - leftover, leftover, &out);
    if (r == 0 && out.data == NULL && tp_buf_reserve(&out, 1) != 0) r = TP_FETCH_NOMEM;
    if (r == 0) {
        *status = head->status;
        *body = out.data;
        *body_len = out.len;
    } else {
        tp_buf_free(&out);
    }

    if (c.ssl != NULL) SSL_free(c.ssl);
    if (c.ssl_ctx != NULL) SSL_CTX_free(c.ssl_ctx);
    if (c.fd >= 0) close(c.fd);
    ERR_clear_error();
    tp_buf_free(&request);
    tp_buf_free(&in);
    free(head);
    return r;
}

void tp_fetch_free(uint8_t *body) { free(body); }

const char *tp_fetch_error_string(int error) {
    switch (error) {
    case 0: return "ok";
    case TP_FETCH_BAD_URL: return "invalid URL";
    case TP_FETCH_RESOLVE: return "host name did not resolve";
    case TP_FETCH_CONNECT: return "connection refused or unreachable";
    case TP_FETCH_TLS: return "TLS handshake or certificate verification failed";
    case TP_FETCH_TIMEOUT: return "timed out";
    case TP_FETCH_IO: return "connection closed before the response ended";
    case TP_FETCH_BAD_RESPONSE: return "malformed HTTP response";
    case TP_FETCH_TOO_LARGE: return "response body larger than 1 MB";
    case TP_FETCH_NOMEM: return "out of memory";
    default: return "unknown error";
    }
}
