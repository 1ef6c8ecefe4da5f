/*
 * floor_proxy.c — the cheapest HTTP/1.1 proxy libuv allows, to measure the floor that the
 * issue's targets are set against on *this* machine: one thread, keep-alive both sides, one
 * read and one write per message, uv_try_write, no parsing beyond finding the end of a head
 * and a Content-Length. Not a product: bodiless requests only, Content-Length responses
 * only, no timeouts, no error answers; it exists for Benchmarks/floor.sh.
 *
 *   floor_proxy LISTEN_PORT UPSTREAM_PORT [pipeline]
 *
 * Default mode: each client request takes an idle upstream connection (or opens one) and
 * is written to it at once. `pipeline`: requests are appended to one upstream connection's
 * buffer and written once per loop iteration (from a prepare handle); responses come back
 * in order and go to their clients — the coalescing the 0.45× row describes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <uv.h>

#define BUF 65536
#define MAXQ 4096

typedef struct client client;
typedef struct up up;

struct client {
    uv_tcp_t tcp;
    char buf[BUF];
    size_t len;
    up *u;          /* the upstream whose response this client waits for */
    unsigned slot;  /* its place in u->waiting */
};

struct up {
    uv_tcp_t tcp;
    char buf[BUF];
    size_t len;
    client *waiting[MAXQ];   /* clients whose responses come next, in order */
    unsigned head, count;
    up *next_idle;
    char out[BUF];           /* pipeline mode: requests gathered this iteration */
    size_t out_len;
    int connected;
};

static uv_loop_t *loop;
static struct sockaddr_in upstream_addr;
static up *idle;
static up *pipe_up;
static int pipelining;

static void alloc_client(uv_handle_t *h, size_t s, uv_buf_t *b) {
    (void)s;
    client *c = (client *)h;
    b->base = c->buf + c->len;
    b->len = BUF - c->len;
}

static void alloc_up(uv_handle_t *h, size_t s, uv_buf_t *b) {
    (void)s;
    up *u = (up *)h;
    b->base = u->buf + u->len;
    b->len = BUF - u->len;
}

static void freed(uv_handle_t *h) { free(h); }

static void write_done(uv_write_t *w, int status) {
    (void)status;
    free(w);
}

/* One write: uv_try_write, the rest (rare) copied into a queued write. */
static void send_all(uv_stream_t *s, const char *data, size_t len) {
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    int n = uv_try_write(s, &b, 1);
    if (n == (int)len) return;
    if (n < 0) n = 0;
    uv_write_t *w = malloc(sizeof *w + len - (size_t)n);
    char *copy = (char *)(w + 1);
    memcpy(copy, data + n, len - (size_t)n);
    b = uv_buf_init(copy, (unsigned)(len - (size_t)n));
    uv_write(w, s, &b, 1, write_done);
}

/* Length of the complete response at the front of buf, or 0. */
static size_t response_length(const char *buf, size_t len) {
    const char *end = NULL;
    for (size_t i = 3; i < len; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r') { end = buf + i + 1; break; }
    if (!end) return 0;
    size_t head = (size_t)(end - buf), body = 0;
    for (const char *p = buf; p + 15 < end; p++) {
        if ((p[0] == 'C' || p[0] == 'c') && strncasecmp(p, "content-length:", 15) == 0) {
            body = strtoul(p + 15, NULL, 10);
            break;
        }
    }
    return head + body <= len ? head + body : 0;
}

static void up_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);

static up *up_new(void) {
    up *u = calloc(1, sizeof *u);
    uv_tcp_init(loop, &u->tcp);
    uv_tcp_nodelay(&u->tcp, 1);
    return u;
}

static void on_up_connect(uv_connect_t *req, int status) {
    up *u = req->data;
    free(req);
    if (status < 0) { fprintf(stderr, "upstream connect: %s\n", uv_strerror(status)); exit(1); }
    u->connected = 1;
    uv_read_start((uv_stream_t *)&u->tcp, alloc_up, up_read);
    if (!pipelining && u->out_len) {
        send_all((uv_stream_t *)&u->tcp, u->out, u->out_len);
        u->out_len = 0;
    }
}

static void up_connect(up *u) {
    uv_connect_t *req = malloc(sizeof *req);
    req->data = u;
    uv_tcp_connect(req, &u->tcp, (const struct sockaddr *)&upstream_addr, on_up_connect);
}

static void up_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
    (void)b;
    up *u = (up *)s;
    if (n == 0) return;
    if (n < 0) {
        /* An idle connection the upstream closed (its keep-alive timeout): forget it. */
        if (u->count) { fprintf(stderr, "upstream closed with %u requests in flight\n", u->count); exit(1); }
        for (up **p = &idle; *p; p = &(*p)->next_idle) {
            if (*p == u) { *p = u->next_idle; break; }
        }
        if (u == pipe_up) {
            pipe_up = up_new();
            up_connect(pipe_up);
        }
        uv_close((uv_handle_t *)&u->tcp, freed);
        return;
    }
    u->len += (size_t)n;
    size_t pos = 0, r;
    while (u->count && (r = response_length(u->buf + pos, u->len - pos)) > 0) {
        client *c = u->waiting[u->head];
        u->head = (u->head + 1) % MAXQ;
        u->count--;
        if (c) send_all((uv_stream_t *)&c->tcp, u->buf + pos, r);
        pos += r;
        if (c) c->u = NULL;
    }
    memmove(u->buf, u->buf + pos, u->len - pos);
    u->len -= pos;
    if (!pipelining && u->count == 0) {
        u->next_idle = idle;
        idle = u;
    }
}

static void client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
    (void)b;
    client *c = (client *)s;
    if (n < 0) {
        if (c->u) c->u->waiting[c->slot] = NULL;  /* its response is read and dropped */
        uv_close((uv_handle_t *)s, freed);
        return;
    }
    c->len += (size_t)n;
    if (c->len < 4 || memcmp(c->buf + c->len - 4, "\r\n\r\n", 4) != 0) return;  /* head not complete */
    up *u;
    if (pipelining) {
        u = pipe_up;
    } else if (idle) {
        u = idle;
        idle = u->next_idle;
    } else {
        u = up_new();
        up_connect(u);
    }
    c->slot = (u->head + u->count) % MAXQ;
    u->waiting[c->slot] = c;
    u->count++;
    c->u = u;
    if (pipelining || !u->connected) {
        memcpy(u->out + u->out_len, c->buf, c->len);
        u->out_len += c->len;
    } else {
        send_all((uv_stream_t *)&u->tcp, c->buf, c->len);
    }
    c->len = 0;
}

static void on_prepare(uv_prepare_t *p) {
    (void)p;
    if (pipe_up && pipe_up->connected && pipe_up->out_len) {
        send_all((uv_stream_t *)&pipe_up->tcp, pipe_up->out, pipe_up->out_len);
        pipe_up->out_len = 0;
    }
}

static void on_connection(uv_stream_t *server, int status) {
    if (status < 0) return;
    client *c = calloc(1, sizeof *c);
    uv_tcp_init(loop, &c->tcp);
    uv_tcp_nodelay(&c->tcp, 1);
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) { uv_close((uv_handle_t *)&c->tcp, freed); return; }
    uv_read_start((uv_stream_t *)&c->tcp, alloc_client, client_read);
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: floor_proxy LISTEN_PORT UPSTREAM_PORT [pipeline]\n"); return 2; }
    signal(SIGPIPE, SIG_IGN);
    pipelining = argc > 3 && strcmp(argv[3], "pipeline") == 0;
    loop = uv_default_loop();
    uv_ip4_addr("127.0.0.1", atoi(argv[2]), &upstream_addr);
    uv_tcp_t server;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", atoi(argv[1]), &addr);
    uv_tcp_init(loop, &server);
    if (uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0) != 0 || uv_listen((uv_stream_t *)&server, 1024, on_connection) != 0) {
        fprintf(stderr, "cannot listen on %s\n", argv[1]);
        return 1;
    }
    uv_prepare_t prepare;
    uv_prepare_init(loop, &prepare);
    uv_prepare_start(&prepare, on_prepare);
    if (pipelining) {
        pipe_up = up_new();
        up_connect(pipe_up);
    }
    return uv_run(loop, UV_RUN_DEFAULT);
}
