/*
 * http1_parser.c — strict HTTP/1.1 request and response head parsing (RFC 9112).
 *
 * A gateway in front of other servers is only as safe as the narrowest reading of a
 * message: wherever two parsers could disagree on where a head or body ends (bare CR
 * or LF, obs-fold, whitespace before the colon, both Content-Length and
 * Transfer-Encoding, odd Transfer-Encoding lists) we refuse the message instead of
 * guessing.
 *
 * The parser is stateless: the caller hands in everything buffered so far and parses
 * again when more arrives. Bytes are examined strictly in order and each verdict
 * depends only on bytes already seen, so a prefix of a buffer never yields a different
 * answer than the buffer itself (NEED_MORE aside). Limits are enforced by never
 * looking past them, which also bounds the work per call.
 */
#include "turnpike_shim.h"

#include <string.h>

/* Used when the caller passes no limits (or a zero field): nginx's defaults in spirit. */
#define DEFAULT_MAX_REQUEST_LINE 8192u
#define DEFAULT_MAX_HEAD_BYTES 65536u

enum {
    C_TCHAR = 1,  /* RFC 9110 token character */
    C_VALUE = 2,  /* field-value byte: HTAB, SP, VCHAR, obs-text */
    C_TARGET = 4, /* request-target byte: VCHAR except '#', obs-text */
    C_HOST = 8    /* Host field byte: reg-name, IP-literal and port characters */
};

static const uint8_t char_class[256] = {
     0,  0,  0,  0,  0,  0,  0,  0,  0,  2,  0,  0,  0,  0,  0,  0, /* 0x00 */
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 0x10 */
     2, 15,  6,  3, 15, 15, 15, 15, 14, 14, 15, 15, 14, 15, 15,  6, /* 0x20 */
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 14, 14,  6, 14,  6,  6, /* 0x30 */
     6, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, /* 0x40 */
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 14,  6, 14,  7, 15, /* 0x50 */
     7, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, /* 0x60 */
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,  6,  7,  6, 15,  0, /* 0x70 */
     6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, /* 0x80 */
     6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, /* 0x90 */
     6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, /* 0xA0 */
     6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, /* 0xB0 */
     6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, /* 0xC0 */
     6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, /* 0xD0 */
     6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, /* 0xE0 */
     6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, /* 0xF0 */
};

/* What the fields of one head say about framing and the connection. */
typedef struct {
    int64_t content_length;
    tp_slice host;
    uint8_t is_request;
    uint8_t has_content_length;
    uint8_t has_transfer_encoding;
    uint8_t chunked_last;         /* the last transfer coding seen is chunked */
    uint8_t other_coding;         /* a transfer coding we do not implement */
    uint8_t host_count;
    uint8_t connection_close;
    uint8_t connection_keep_alive;
    uint8_t connection_upgrade;
    uint8_t has_upgrade;
    uint8_t expect_continue;
} field_facts;

/* Outcome of one scanning step; ST_OK means "go on". */
typedef enum { ST_OK = 0, ST_DONE, ST_NEED_MORE, ST_ERROR } step;

typedef struct {
    const uint8_t *buf;
    size_t len;        /* bytes buffered */
    size_t head_limit; /* the head may not extend past this offset */
    uint16_t status;   /* on ST_ERROR */
} scanner;

static inline int is_ows(uint8_t c) { return c == ' ' || c == '\t'; }

static inline uint8_t lower(uint8_t c) { return (uint8_t)(c | 0x20); }

/* ASCII case-insensitive equality against a lowercase literal. Only used on bytes
 * already validated as tokens or field values, where `| 0x20` cannot map a
 * non-letter onto a letter, '-' or digit of the literal (those pre-images are CTLs). */
static int equals_lower(const uint8_t *p, size_t n, const char *lit, size_t lit_len) {
    if (n != lit_len) return 0;
    for (size_t i = 0; i < n; i++)
        if (lower(p[i]) != (uint8_t)lit[i]) return 0;
    return 1;
}

#define EQUALS(p, n, lit) equals_lower((p), (n), (lit), sizeof(lit) - 1)

/* The scanner ran out of bytes at `end` (the smaller of the buffer and `limit`). More
 * input can help only when it was the buffer that ran out. */
static step starved(scanner *s, size_t end, size_t limit, uint16_t limit_status) {
    if (end < limit) return ST_NEED_MORE;
    s->status = limit_status;
    return ST_ERROR;
}

static step fail(scanner *s, uint16_t status) {
    s->status = status;
    return ST_ERROR;
}

/* Calls fn(element, length, ctx) for each element (empty ones too) of a comma-separated
 * list, with OWS trimmed; stops and returns nonzero when fn does. */
static int for_each_element(const uint8_t *p, size_t n,
                            int (*fn)(const uint8_t *, size_t, void *), void *ctx) {
    size_t i = 0;
    while (i < n) {
        const uint8_t *comma = memchr(p + i, ',', n - i);
        size_t stop = comma ? (size_t)(comma - p) : n;
        size_t a = i, b = stop;
        while (a < b && is_ows(p[a])) a++;
        while (b > a && is_ows(p[b - 1])) b--;
        int r = fn(p + a, b - a, ctx);
        if (r) return r;
        i = stop + 1;
    }
    return 0;
}

/* --- Content-Length and Transfer-Encoding ------------------------------------------ */

/* Content-Length: a list of 1*DIGIT that must all be equal (RFC 9110 §8.6 lets a
 * recipient read "5, 5" as 5); anything else, or a second field that differs, is 400. */
static int note_content_length(field_facts *f, const uint8_t *v, size_t n) {
    int64_t value = f->has_content_length ? f->content_length : -1;
    size_t i = 0;
    for (;;) {
        while (i < n && is_ows(v[i])) i++;
        size_t start = i;
        uint64_t x = 0;
        for (unsigned d; i < n && (d = (unsigned)v[i] - '0') <= 9; i++) {
            if (x > ((uint64_t)INT64_MAX - d) / 10) return -1;
            x = x * 10 + d;
        }
        if (i == start) return -1;
        if (value >= 0 && (uint64_t)value != x) return -1;
        value = (int64_t)x;
        while (i < n && is_ows(v[i])) i++;
        if (i == n) break;
        if (v[i++] != ',') return -1;
    }
    f->has_content_length = 1;
    f->content_length = value;
    return 0;
}

/* Transfer-Encoding: a list of codings, across every such field in order. A coding
 * after chunked leaves the body length undecidable (RFC 9112 §6.3): 400, as are empty
 * elements and chunked with parameters. Other codings are valid but not implemented:
 * the caller answers 501 once the head has no worse fault. */
static int note_transfer_encoding(field_facts *f, const uint8_t *v, size_t n) {
    f->has_transfer_encoding = 1;
    size_t i = 0;
    for (;;) {
        while (i < n && is_ows(v[i])) i++;
        size_t start = i;
        while (i < n && (char_class[v[i]] & C_TCHAR)) i++;
        if (i == start || f->chunked_last) return -1;
        if (EQUALS(v + start, i - start, "chunked")) {
            f->chunked_last = 1;
        } else {
            f->other_coding = 1;
            size_t j = i;
            while (j < n && is_ows(v[j])) j++;
            if (j < n && v[j] == ';') /* its parameters do not matter */
                for (i = j; i < n && v[i] != ','; i++) {}
        }
        while (i < n && is_ows(v[i])) i++;
        if (i == n) return 0;
        if (v[i++] != ',') return -1;
    }
}

/* --- Connection, Expect, Host ----------------------------------------------------- */

static int connection_element(const uint8_t *p, size_t n, void *ctx) {
    field_facts *f = ctx;
    if (EQUALS(p, n, "close")) f->connection_close = 1;
    else if (EQUALS(p, n, "keep-alive")) f->connection_keep_alive = 1;
    else if (EQUALS(p, n, "upgrade")) f->connection_upgrade = 1;
    return 0;
}

static int valid_host(const uint8_t *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!(char_class[v[i]] & C_HOST)) return 0;
    return 1;
}

/* Records what a field means for framing and the connection. Returns 0, or the status
 * to answer. Names are compared by length first: most fields match none. */
static uint16_t note_field(field_facts *f, const uint8_t *name, size_t name_len,
                           const uint8_t *v, size_t n) {
    switch (name_len) {
    case 4:
        if (f->is_request && EQUALS(name, name_len, "host")) {
            if (++f->host_count > 1 || !valid_host(v, n)) return 400;
            f->host.ptr = v;
            f->host.len = (uint32_t)n;
        }
        break;
    case 6:
        if (f->is_request && EQUALS(name, name_len, "expect"))
            f->expect_continue = (uint8_t)EQUALS(v, n, "100-continue");
        break;
    case 7:
        if (EQUALS(name, name_len, "upgrade")) f->has_upgrade = 1;
        break;
    case 10:
        if (EQUALS(name, name_len, "connection"))
            for_each_element(v, n, connection_element, f);
        break;
    case 14:
        if (EQUALS(name, name_len, "content-length") && note_content_length(f, v, n))
            return 400;
        break;
    case 17:
        if (EQUALS(name, name_len, "transfer-encoding") && note_transfer_encoding(f, v, n))
            return 400;
        break;
    }
    return 0;
}

/* --- Scanning ---------------------------------------------------------------------- */

/* Bytes in [p, end) that are plain field-value bytes, eight at a time: a word is plain
 * when no byte is below 0x20 (CTLs, including CR and LF) or equal to 0x7F. HTAB and
 * whatever stopped the fast loop are left to the table. */
static size_t skip_value_bytes(const uint8_t *buf, size_t p, size_t end) {
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    while (p + 8 <= end) {
        uint64_t w;
        memcpy(&w, buf + p, 8);
        uint64_t below_space = (w - ones * 0x20) & ~w;
        uint64_t x = w ^ (ones * 0x7F);
        uint64_t is_del = (x - ones) & ~x;
        if ((below_space | is_del) & highs) break;
        p += 8;
    }
    while (p < end && (char_class[buf[p]] & C_VALUE)) p++;
    return p;
}

/* Scans field lines from *pos up to and including the empty line that ends the head.
 * Every byte examined lies below s->head_limit. */
static step scan_fields(scanner *s, size_t *pos, tp_header *headers, uint32_t *count,
                        field_facts *f) {
    const uint8_t *buf = s->buf;
    size_t end = s->len < s->head_limit ? s->len : s->head_limit;
    size_t p = *pos;
    for (;;) {
        if (p >= end) return starved(s, end, s->head_limit, 431);
        uint8_t c = buf[p];
        if (c == '\r') {
            if (p + 1 >= end) return starved(s, end, s->head_limit, 431);
            if (buf[p + 1] != '\n') return fail(s, 400);
            *pos = p + 2;
            return ST_DONE;
        }
        /* A line starting with whitespace is obs-fold (or hides a field after the
         * start line): refused either way (RFC 9112 §2.2, §5.2). */
        if (!(char_class[c] & C_TCHAR)) return fail(s, 400);
        if (*count == TP_MAX_HEADERS) return fail(s, 431);

        size_t name_start = p;
        while (p < end && (char_class[buf[p]] & C_TCHAR)) p++;
        if (p >= end) return starved(s, end, s->head_limit, 431);
        if (buf[p] != ':') return fail(s, 400); /* includes whitespace before the colon */
        size_t name_len = p - name_start;
        p++;
        while (p < end && is_ows(buf[p])) p++;
        size_t value_start = p;
        p = skip_value_bytes(buf, p, end);
        if (p >= end) return starved(s, end, s->head_limit, 431);
        if (buf[p] != '\r') return fail(s, 400); /* a CTL, or a bare LF */
        if (p + 1 >= end) return starved(s, end, s->head_limit, 431);
        if (buf[p + 1] != '\n') return fail(s, 400); /* a bare CR */
        size_t value_end = p;
        while (value_end > value_start && is_ows(buf[value_end - 1])) value_end--;
        p += 2;

        tp_header *h = &headers[(*count)++];
        h->name.ptr = buf + name_start;
        h->name.len = (uint32_t)name_len;
        h->value.ptr = buf + value_start;
        h->value.len = (uint32_t)(value_end - value_start);
        uint16_t status = note_field(f, h->name.ptr, name_len, h->value.ptr, h->value.len);
        if (status) return fail(s, status);
    }
}

/* Matches "HTTP/" DIGIT "." DIGIT at *pos; *major and *minor receive the digits. */
static step scan_version(scanner *s, size_t *pos, size_t end, size_t limit,
                         uint16_t limit_status, unsigned *major, unsigned *minor) {
    static const char prefix[] = "HTTP/";
    size_t p = *pos;
    for (size_t i = 0; i < 5; i++, p++) {
        if (p >= end) return starved(s, end, limit, limit_status);
        if (s->buf[p] != (uint8_t)prefix[i]) return fail(s, 400);
    }
    for (int i = 0; i < 3; i++, p++) {
        if (p >= end) return starved(s, end, limit, limit_status);
        uint8_t c = s->buf[p];
        if (i == 1 ? c != '.' : (unsigned)(c - '0') > 9) return fail(s, 400);
    }
    *major = (unsigned)(s->buf[p - 3] - '0');
    *minor = (unsigned)(s->buf[p - 1] - '0');
    *pos = p;
    return ST_OK;
}

/* Expects CRLF at *pos. */
static step scan_crlf(scanner *s, size_t *pos, size_t end, size_t limit,
                      uint16_t limit_status) {
    size_t p = *pos;
    if (p >= end) return starved(s, end, limit, limit_status);
    if (s->buf[p] != '\r') return fail(s, 400);
    if (p + 1 >= end) return starved(s, end, limit, limit_status);
    if (s->buf[p + 1] != '\n') return fail(s, 400);
    *pos = p + 2;
    return ST_OK;
}

static tp_parse_result finish(step st) {
    return st == ST_NEED_MORE ? TP_PARSE_NEED_MORE : TP_PARSE_ERROR;
}

static void resolve_limits(const tp_parse_limits *limits, size_t *line, size_t *head) {
    *line = limits && limits->max_request_line ? limits->max_request_line
                                               : DEFAULT_MAX_REQUEST_LINE;
    *head = limits && limits->max_head_bytes ? limits->max_head_bytes
                                             : DEFAULT_MAX_HEAD_BYTES;
}

/* keep_alive per RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with
 * "keep-alive" (and no "close"). */
static uint8_t keeps_alive(const field_facts *f, unsigned minor) {
    if (f->connection_close) return 0;
    return minor == 1 ? 1 : f->connection_keep_alive;
}

/* --- Requests ---------------------------------------------------------------------- */

/* Splits the request-target into path and query. Origin-form ("/p?q"), absolute-form
 * ("http://authority/p?q", path taken from after the authority) and asterisk-form
 * (OPTIONS only) are accepted; authority-form (CONNECT) is not, as we do not tunnel. */
static int split_target(tp_request_head *out) {
    const uint8_t *t = out->target.ptr;
    size_t n = out->target.len;
    size_t path_start;
    if (t[0] == '/') {
        path_start = 0;
    } else if (n == 1 && t[0] == '*') {
        if (out->method.len != 7 || memcmp(out->method.ptr, "OPTIONS", 7) != 0) return -1;
        out->path = out->target;
        return 0;
    } else {
        size_t scheme_len;
        if (n > 7 && EQUALS(t, 7, "http://")) scheme_len = 7;
        else if (n > 8 && EQUALS(t, 8, "https://")) scheme_len = 8;
        else return -1;
        size_t a = scheme_len;
        while (a < n && t[a] != '/' && t[a] != '?') a++;
        if (a == scheme_len) return -1;
        path_start = a;
    }
    const uint8_t *q = memchr(t + path_start, '?', n - path_start);
    size_t path_end = q ? (size_t)(q - t) : n;
    out->path.ptr = t + path_start;
    out->path.len = (uint32_t)(path_end - path_start);
    if (q) {
        out->has_query = 1;
        out->query.ptr = q + 1;
        out->query.len = (uint32_t)(n - path_end - 1);
    }
    return 0;
}

static step scan_request_line(scanner *s, size_t *pos, size_t max_line,
                              tp_request_head *out) {
    const uint8_t *buf = s->buf;
    size_t start = *pos;
    /* The line may not run past max_line bytes plus its CRLF, nor past the head. */
    size_t limit = start + max_line + 2;
    uint16_t limit_status = 414;
    if (limit > s->head_limit) {
        limit = s->head_limit;
        limit_status = 431;
    }
    size_t end = s->len < limit ? s->len : limit;
    size_t p = start;

    while (p < end && (char_class[buf[p]] & C_TCHAR)) p++;
    if (p >= end) return starved(s, end, limit, limit_status);
    if (buf[p] != ' ' || p == start) return fail(s, 400);
    out->method.ptr = buf + start;
    out->method.len = (uint32_t)(p - start);
    p++;

    size_t target_start = p;
    while (p < end && (char_class[buf[p]] & C_TARGET)) p++;
    if (p >= end) return starved(s, end, limit, limit_status);
    if (buf[p] != ' ' || p == target_start) return fail(s, 400);
    out->target.ptr = buf + target_start;
    out->target.len = (uint32_t)(p - target_start);
    p++;

    unsigned major, minor;
    step st = scan_version(s, &p, end, limit, limit_status, &major, &minor);
    if (st != ST_OK) return st;
    st = scan_crlf(s, &p, end, limit, limit_status);
    if (st != ST_OK) return st;
    if (major != 1 || minor > 1) return fail(s, 505);
    out->version_minor = (uint8_t)minor;
    if (split_target(out)) return fail(s, 400);
    *pos = p;
    return ST_OK;
}

tp_parse_result tp_http1_parse_request(const uint8_t *buf, size_t len,
                                       const tp_parse_limits *limits,
                                       tp_request_head *out, size_t *head_len,
                                       uint16_t *error_status) {
    size_t max_line, max_head;
    resolve_limits(limits, &max_line, &max_head);
    scanner s = {.buf = buf, .len = len, .head_limit = max_head, .status = 0};
    size_t end = len < max_head ? len : max_head;
    size_t p = 0;
    field_facts f = {.is_request = 1};
    step st;

    /* Leading empty lines are skipped (RFC 9112 §2.2), but only as CRLF. */
    while (p < end && buf[p] == '\r') {
        if (p + 1 >= end) break;
        if (buf[p + 1] != '\n') {
            st = fail(&s, 400);
            goto out;
        }
        p += 2;
    }
    if (p >= end || buf[p] == '\r') {
        st = starved(&s, end, max_head, 431);
        goto out;
    }

    out->method = out->target = out->path = out->query = out->host = (tp_slice){0};
    out->has_query = 0;
    out->header_count = 0;
    st = scan_request_line(&s, &p, max_line, out);
    if (st != ST_OK) goto out;

    st = scan_fields(&s, &p, out->headers, &out->header_count, &f);
    if (st != ST_DONE) goto out;

    /* Framing that two parsers could read differently is refused (RFC 9112 §6.1, §6.3):
     * an HTTP/1.0 message cannot be trusted to mean chunked. */
    if (f.has_transfer_encoding && (f.has_content_length || out->version_minor == 0)) {
        st = fail(&s, 400);
        goto out;
    }
    if (out->version_minor == 1 && f.host_count == 0) {
        st = fail(&s, 400);
        goto out;
    }
    if (f.other_coding) {
        st = fail(&s, 501);
        goto out;
    }
    out->host = f.host;
    out->content_length = f.has_content_length ? f.content_length : -1;
    out->chunked = f.chunked_last;
    out->keep_alive = keeps_alive(&f, out->version_minor);
    /* HTTP/1.0 requests cannot carry either (RFC 9110 §10.1.1, §7.8). */
    out->expect_continue = out->version_minor == 1 && f.expect_continue;
    out->upgrade = out->version_minor == 1 && f.connection_upgrade && f.has_upgrade;
    *head_len = p;
    return TP_PARSE_DONE;

out:
    if (st == ST_ERROR) *error_status = s.status;
    return finish(st);
}

/* --- Responses --------------------------------------------------------------------- */

tp_parse_result tp_http1_parse_response(const uint8_t *buf, size_t len,
                                        const tp_parse_limits *limits,
                                        tp_response_head *out, size_t *head_len) {
    size_t max_line, max_head;
    resolve_limits(limits, &max_line, &max_head);
    scanner s = {.buf = buf, .len = len, .head_limit = max_head, .status = 0};
    size_t limit = max_line + 2 < max_head ? max_line + 2 : max_head;
    size_t end = len < limit ? len : limit;
    size_t p = 0;
    unsigned major, minor;

    /* The status line: HTTP-version SP 3DIGIT SP [reason] CRLF. Servers that drop
     * the SP before an empty reason are common and unambiguous, so that is accepted. */
    step st = scan_version(&s, &p, end, limit, 502, &major, &minor);
    if (st != ST_OK) return finish(st);
    if (p >= end) return finish(starved(&s, end, limit, 502));
    if (buf[p] != ' ') return TP_PARSE_ERROR;
    p++;
    unsigned status = 0;
    for (int i = 0; i < 3; i++, p++) {
        if (p >= end) return finish(starved(&s, end, limit, 502));
        unsigned d = (unsigned)buf[p] - '0';
        if (d > 9 || (i == 0 && d == 0)) return TP_PARSE_ERROR;
        status = status * 10 + d;
    }
    if (p >= end) return finish(starved(&s, end, limit, 502));
    size_t reason_start = p, reason_end = p;
    if (buf[p] == ' ') {
        reason_start = ++p;
        while (p < end && (char_class[buf[p]] & C_VALUE)) p++;
        reason_end = p;
    }
    st = scan_crlf(&s, &p, end, limit, 502);
    if (st != ST_OK) return finish(st);
    if (major != 1 || minor > 1) return TP_PARSE_ERROR;

    out->reason.ptr = buf + reason_start;
    out->reason.len = (uint32_t)(reason_end - reason_start);
    out->status = (uint16_t)status;
    out->version_minor = (uint8_t)minor;
    out->header_count = 0;

    field_facts f = {.is_request = 0};
    st = scan_fields(&s, &p, out->headers, &out->header_count, &f);
    if (st != ST_DONE) return finish(st);
    /* RFC 9112 §6.3 would let Transfer-Encoding override Content-Length here; a
     * message carrying both is a smuggling attempt or a broken upstream either way. */
    if (f.has_transfer_encoding &&
        (f.has_content_length || minor == 0 || f.other_coding))
        return TP_PARSE_ERROR;
    out->content_length = f.has_content_length ? f.content_length : -1;
    out->chunked = f.chunked_last;
    out->keep_alive = keeps_alive(&f, minor);
    *head_len = p;
    return TP_PARSE_DONE;
}
