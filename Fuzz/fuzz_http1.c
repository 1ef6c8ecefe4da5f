/*
 * fuzz_http1.c — libFuzzer target for the HTTP/1.1 head parsers and the chunked
 * decoder. Run through Fuzz/run.sh.
 *
 * Besides memory safety (ASan/UBSan), it checks the properties the connection code
 * relies on: every slice lies inside the parsed head; a prefix of the input never gets
 * a different verdict than the input itself (only NEED_MORE instead); a parsed head
 * parses the same on its own; and the chunked decoder yields the same bytes and
 * verdict however its input is split. Every buffer handed to the code under test is
 * its own exact-size allocation, so reading one byte too far is caught.
 */
#include "turnpike_shim.h"

#include "fuzz_support.h"
#include <string.h>

/* Deterministic per input, so that a crash reproduces from its file alone. */
static uint64_t rng_state;

static uint64_t rng_next(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint64_t hash_bytes(const uint8_t *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h | 1;
}

static uint8_t *copy_of(const uint8_t *data, size_t n) {
    uint8_t *b = malloc(n ? n : 1);
    CHECK(b != NULL);
    if (n) memcpy(b, data, n);
    return b;
}

static int slice_within(tp_slice s, const uint8_t *buf, size_t n) {
    if (s.len == 0) return s.ptr == NULL || (s.ptr >= buf && s.ptr <= buf + n);
    return s.ptr >= buf && s.ptr + s.len <= buf + n;
}

static int is_tchar(uint8_t c) {
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Line structure of a head that parsed: only CRLF line ends, no line starting with
 * whitespace (obs-fold), and an empty line at the end. */
static void check_lines(const uint8_t *buf, size_t head_len) {
    CHECK(head_len >= 4 && memcmp(buf + head_len - 4, "\r\n\r\n", 4) == 0);
    for (size_t i = 0; i < head_len; i++) {
        if (buf[i] == '\r') CHECK(i + 1 < head_len && buf[i + 1] == '\n');
        if (buf[i] == '\n') {
            CHECK(i > 0 && buf[i - 1] == '\r');
            if (i + 1 < head_len) CHECK(buf[i + 1] != ' ' && buf[i + 1] != '\t');
        }
    }
}

static int field_count(const tp_header *headers, uint32_t count, const char *name) {
    int found = 0;
    size_t n = strlen(name);
    for (uint32_t i = 0; i < count; i++) {
        if (headers[i].name.len != n) continue;
        size_t j = 0;
        while (j < n && (headers[i].name.ptr[j] | 0x20) == name[j]) j++;
        found += j == n;
    }
    return found;
}

/* Framing flags agree with the fields actually present. */
static void check_framing(const tp_header *headers, uint32_t count, int64_t content_length,
                          uint8_t chunked) {
    int cl = field_count(headers, count, "content-length");
    int te = field_count(headers, count, "transfer-encoding");
    CHECK(!(cl && te));
    CHECK((content_length >= 0) == (cl > 0));
    if (chunked) CHECK(te > 0);
}

static void check_fields(const tp_header *headers, uint32_t count, const uint8_t *buf,
                         size_t head_len) {
    CHECK(count <= TP_MAX_HEADERS);
    for (uint32_t i = 0; i < count; i++) {
        tp_slice n = headers[i].name, v = headers[i].value;
        CHECK(n.len > 0 && slice_within(n, buf, head_len));
        CHECK(slice_within(v, buf, head_len));
        for (uint32_t j = 0; j < n.len; j++) CHECK(is_tchar(n.ptr[j]));
        for (uint32_t j = 0; j < v.len; j++)
            CHECK(v.ptr[j] == '\t' || (v.ptr[j] >= 0x20 && v.ptr[j] != 0x7f));
        if (v.len) {
            CHECK(v.ptr[0] != ' ' && v.ptr[0] != '\t');
            CHECK(v.ptr[v.len - 1] != ' ' && v.ptr[v.len - 1] != '\t');
        }
    }
}

/* --- Requests ---------------------------------------------------------------------- */

typedef struct {
    tp_parse_result result;
    size_t head_len;
    uint16_t status;
    tp_request_head head;
} request_outcome;

static void parse_request(const uint8_t *data, size_t n, const tp_parse_limits *lim,
                          request_outcome *o) {
    uint8_t *buf = copy_of(data, n);
    o->head_len = 0;
    o->status = 0;
    o->result = tp_http1_parse_request(buf, n, lim, &o->head, &o->head_len, &o->status);
    if (o->result == TP_PARSE_DONE) {
        tp_request_head *h = &o->head;
        CHECK(o->head_len > 0 && o->head_len <= n && o->head_len <= lim->max_head_bytes);
        CHECK(h->method.len > 0 && slice_within(h->method, buf, o->head_len));
        CHECK(h->target.len > 0 && slice_within(h->target, buf, o->head_len));
        CHECK(slice_within(h->path, h->target.ptr, h->target.len));
        CHECK(slice_within(h->query, h->target.ptr, h->target.len));
        CHECK(slice_within(h->host, buf, o->head_len));
        CHECK(h->has_query || h->query.len == 0);
        CHECK(h->target.len <= lim->max_request_line);
        CHECK(h->version_minor <= 1);
        CHECK(h->content_length >= -1);
        CHECK(!(h->chunked && h->content_length >= 0));
        check_fields(h->headers, h->header_count, buf, o->head_len);
        check_lines(buf, o->head_len);
        check_framing(h->headers, h->header_count, h->content_length, h->chunked);
        if (h->version_minor == 1) CHECK(field_count(h->headers, h->header_count, "host") == 1);
        /* Slices are compared by offset once buf is gone. */
        h->method.ptr = (const uint8_t *)(h->method.ptr - buf);
        h->target.ptr = (const uint8_t *)(h->target.ptr - buf);
    } else if (o->result == TP_PARSE_ERROR) {
        CHECK(o->status == 400 || o->status == 414 || o->status == 431 ||
              o->status == 501 || o->status == 505);
    } else {
        CHECK(o->result == TP_PARSE_NEED_MORE);
    }
    free(buf);
}

static void check_request(const uint8_t *data, size_t size, const tp_parse_limits *lim) {
    static request_outcome full, part;
    parse_request(data, size, lim, &full);

    if (full.result == TP_PARSE_DONE && full.head_len < size) {
        parse_request(data, full.head_len, lim, &part);
        CHECK(part.result == TP_PARSE_DONE && part.head_len == full.head_len);
        CHECK(part.head.header_count == full.head.header_count);
        CHECK(part.head.method.ptr == full.head.method.ptr);
        CHECK(part.head.target.ptr == full.head.target.ptr);
        CHECK(part.head.keep_alive == full.head.keep_alive);
        CHECK(part.head.content_length == full.head.content_length);
    }
    for (int i = 0; i < 24 && size > 0; i++) {
        size_t k = i == 0 && full.result == TP_PARSE_DONE ? full.head_len - 1
                                                         : (size_t)(rng_next() % size);
        parse_request(data, k, lim, &part);
        if (full.result == TP_PARSE_DONE) {
            if (k < full.head_len) CHECK(part.result == TP_PARSE_NEED_MORE);
            else CHECK(part.result == TP_PARSE_DONE && part.head_len == full.head_len);
        } else if (full.result == TP_PARSE_ERROR) {
            CHECK(part.result == TP_PARSE_NEED_MORE ||
                  (part.result == TP_PARSE_ERROR && part.status == full.status));
        } else {
            CHECK(part.result == TP_PARSE_NEED_MORE);
        }
    }
}

/* --- Responses --------------------------------------------------------------------- */

static tp_parse_result parse_response(const uint8_t *data, size_t n,
                                      const tp_parse_limits *lim, size_t *head_len) {
    static tp_response_head h;
    uint8_t *buf = copy_of(data, n);
    *head_len = 0;
    tp_parse_result r = tp_http1_parse_response(buf, n, lim, &h, head_len);
    if (r == TP_PARSE_DONE) {
        CHECK(*head_len > 0 && *head_len <= n && *head_len <= lim->max_head_bytes);
        CHECK(h.status >= 100 && h.status <= 999);
        CHECK(slice_within(h.reason, buf, *head_len));
        CHECK(h.version_minor <= 1);
        CHECK(h.content_length >= -1);
        CHECK(!(h.chunked && h.content_length >= 0));
        check_fields(h.headers, h.header_count, buf, *head_len);
        check_lines(buf, *head_len);
        check_framing(h.headers, h.header_count, h.content_length, h.chunked);
    }
    free(buf);
    return r;
}

static void check_response(const uint8_t *data, size_t size, const tp_parse_limits *lim) {
    size_t full_len, part_len;
    tp_parse_result full = parse_response(data, size, lim, &full_len);
    for (int i = 0; i < 16 && size > 0; i++) {
        size_t k = (size_t)(rng_next() % size);
        tp_parse_result part = parse_response(data, k, lim, &part_len);
        if (full == TP_PARSE_DONE) {
            if (k < full_len) CHECK(part == TP_PARSE_NEED_MORE);
            else CHECK(part == TP_PARSE_DONE && part_len == full_len);
        } else if (full == TP_PARSE_ERROR) {
            CHECK(part == TP_PARSE_NEED_MORE || part == TP_PARSE_ERROR);
        } else {
            CHECK(part == TP_PARSE_NEED_MORE);
        }
    }
}

/* --- Chunked bodies ---------------------------------------------------------------- */

typedef struct {
    tp_chunk_result result; /* NEED_MORE when the input ran out */
    size_t consumed;
    size_t data_len;
    uint8_t *data;
} chunked_outcome;

/* Feeds data in pieces ending at the given cut points (each its own allocation). */
static void decode_pieces(const uint8_t *data, size_t size, const size_t *cuts,
                          size_t ncuts, chunked_outcome *o) {
    tp_chunked_decoder d;
    tp_chunked_init(&d);
    o->result = TP_CHUNK_NEED_MORE;
    o->consumed = 0;
    o->data_len = 0;
    size_t start = 0;
    for (size_t c = 0; c <= ncuts && o->result == TP_CHUNK_NEED_MORE; c++) {
        size_t stop = c < ncuts ? cuts[c] : size;
        if (stop < start) continue;
        size_t n = stop - start;
        uint8_t *piece = copy_of(data + start, n);
        size_t off = 0;
        for (;;) {
            size_t used = 0, dl = 0;
            const uint8_t *dp = NULL;
            tp_chunk_result r = tp_chunked_decode(&d, piece + off, n - off, &used, &dp, &dl);
            CHECK(used <= n - off);
            if (r == TP_CHUNK_DATA) {
                CHECK(dl > 0 && dp >= piece + off && dp + dl == piece + off + used);
                memcpy(o->data + o->data_len, dp, dl);
                o->data_len += dl;
                off += used;
                continue;
            }
            CHECK(dl == 0);
            off += used;
            if (r == TP_CHUNK_NEED_MORE) {
                CHECK(off == n);
            } else {
                o->result = r;
                /* Once over, the decoder stays over and consumes nothing. */
                size_t again = 1;
                CHECK(tp_chunked_decode(&d, piece + off, n - off, &again, &dp, &dl) == r);
                CHECK(again == 0);
            }
            break;
        }
        o->consumed += off;
        free(piece);
        start = stop;
    }
}

static void check_chunked(const uint8_t *data, size_t size) {
    chunked_outcome whole = {.data = malloc(size + 1)};
    chunked_outcome split = {.data = malloc(size + 1)};
    size_t *cuts = malloc((size + 1) * sizeof *cuts);
    decode_pieces(data, size, NULL, 0, &whole);
    CHECK(whole.data_len <= whole.consumed && whole.consumed <= size);

    /* Random cuts, then (for small inputs) one byte at a time. */
    for (int round = 0; round < 2; round++) {
        size_t ncuts = 0;
        if (round == 0) {
            size_t pos = 0;
            while (size > 0 && ncuts < 64) {
                pos += 1 + (size_t)(rng_next() % (size / 4 + 1));
                if (pos >= size) break;
                cuts[ncuts++] = pos;
            }
        } else {
            if (size > 4096) break;
            for (size_t i = 1; i < size; i++) cuts[ncuts++] = i;
        }
        decode_pieces(data, size, cuts, ncuts, &split);
        CHECK(split.result == whole.result);
        CHECK(split.consumed == whole.consumed);
        CHECK(split.data_len == whole.data_len);
        CHECK(memcmp(split.data, whole.data, whole.data_len) == 0);
    }
    free(cuts);
    free(whole.data);
    free(split.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint64_t h = hash_bytes(data, size);
    rng_state = h;
    /* Mostly production-like limits; sometimes tiny ones, to reach 414 and 431. */
    tp_parse_limits lim = {8192, 65536};
    if ((h & 3) == 0) {
        lim.max_request_line = 1 + (uint32_t)((h >> 8) % 64);
        lim.max_head_bytes = 1 + (uint32_t)((h >> 16) % 512);
    }
    check_request(data, size, &lim);
    check_response(data, size, &lim);
    check_chunked(data, size);

    /* A chunked request is followed by its body: decode what follows the head too. */
    request_outcome o;
    parse_request(data, size, &lim, &o);
    if (o.result == TP_PARSE_DONE && o.head.chunked)
        check_chunked(data + o.head_len, size - o.head_len);
    return 0;
}
