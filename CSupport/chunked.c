/*
 * chunked.c — incremental decoder of the chunked transfer coding (RFC 9112 §7.1).
 *
 * Chunk framing is where request smuggling hides (a bare LF ending a size line, an
 * extension swallowing a line break, a size that overflows), so every framing byte is
 * checked against the grammar and anything else ends the body with an error. Data
 * bytes are never copied: the caller gets slices of its own buffer.
 */
#include "turnpike_shim.h"

/* Extensions and trailers are dropped, so there is no reason to let a peer make us
 * scan much of them; these bounds are far above what real clients send. */
#define MAX_SIZE_LINE 4096u       /* a chunk-size line, extensions included */
#define MAX_TRAILER_BYTES 16384u  /* the whole trailer section */
#define MAX_SIZE_DIGITS 16u       /* hex digits in a chunk size, leading zeros included */

enum {
    S_SIZE = 0,           /* chunk-size digits (the zero state, so {0} is valid) */
    S_SIZE_BWS,           /* whitespace after the size or an extension, before ';' */
    S_EXT_NAME_START,     /* after ';' */
    S_EXT_NAME,
    S_EXT_NAME_BWS,       /* whitespace after an extension name */
    S_EXT_VALUE_START,    /* after '=' */
    S_EXT_TOKEN,
    S_EXT_QUOTED,
    S_EXT_QUOTED_ESCAPE,
    S_EXT_QUOTED_END,     /* after the closing quote */
    S_SIZE_LF,            /* CR seen at the end of the size line */
    S_DATA,
    S_DATA_CR,            /* chunk data done, CRLF expected */
    S_DATA_LF,
    S_TRAILER_START,      /* start of a trailer line, or of the final CRLF */
    S_TRAILER_NAME,
    S_TRAILER_VALUE,
    S_TRAILER_LF,
    S_FINAL_LF,
    S_DONE,
    S_ERROR
};

/* RFC 9110 tchar, one bit per byte. */
static const uint32_t tchar_bits[8] = {
    0x00000000u, 0x03ff6cfau, 0xc7fffffeu, 0x57ffffffu, 0, 0, 0, 0,
};

static inline int is_tchar(uint8_t c) { return (tchar_bits[c >> 5] >> (c & 31)) & 1; }

static inline int is_ws(uint8_t c) { return c == ' ' || c == '\t'; }

/* HTAB, SP, VCHAR, obs-text: what a field value or quoted pair may hold. */
static inline int is_text(uint8_t c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

static inline int hex_value(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

void tp_chunked_init(tp_chunked_decoder *d) {
    d->remaining = 0;
    d->line_len = 0;
    d->state = S_SIZE;
    d->saw_digit = 0;
}

/* Advances over one framing byte; returns the next state (S_ERROR on a fault). */
static uint8_t step_framing(tp_chunked_decoder *d, uint8_t c) {
    switch (d->state) {
    case S_SIZE: {
        int v = hex_value(c);
        if (v >= 0) {
            /* Sizes must fit in 63 bits so that callers can hold them in an int64. */
            if (d->line_len >= MAX_SIZE_DIGITS || (d->remaining >> 59) != 0) return S_ERROR;
            d->remaining = (d->remaining << 4) | (uint64_t)v;
            d->saw_digit = 1;
            return S_SIZE;
        }
        if (!d->saw_digit) return S_ERROR;
        if (c == '\r') return S_SIZE_LF;
        if (c == ';') return S_EXT_NAME_START;
        if (is_ws(c)) return S_SIZE_BWS;
        return S_ERROR;
    }
    case S_SIZE_BWS:
        if (is_ws(c)) return S_SIZE_BWS;
        return c == ';' ? S_EXT_NAME_START : S_ERROR;
    case S_EXT_NAME_START:
        if (is_ws(c)) return S_EXT_NAME_START;
        return is_tchar(c) ? S_EXT_NAME : S_ERROR;
    case S_EXT_NAME:
        if (is_tchar(c)) return S_EXT_NAME;
        if (c == '\r') return S_SIZE_LF;
        if (c == ';') return S_EXT_NAME_START;
        if (c == '=') return S_EXT_VALUE_START;
        return is_ws(c) ? S_EXT_NAME_BWS : S_ERROR;
    case S_EXT_NAME_BWS:
        if (is_ws(c)) return S_EXT_NAME_BWS;
        if (c == ';') return S_EXT_NAME_START;
        return c == '=' ? S_EXT_VALUE_START : S_ERROR;
    case S_EXT_VALUE_START:
        if (is_ws(c)) return S_EXT_VALUE_START;
        if (c == '"') return S_EXT_QUOTED;
        return is_tchar(c) ? S_EXT_TOKEN : S_ERROR;
    case S_EXT_TOKEN:
        if (is_tchar(c)) return S_EXT_TOKEN;
        if (c == '\r') return S_SIZE_LF;
        if (c == ';') return S_EXT_NAME_START;
        return is_ws(c) ? S_SIZE_BWS : S_ERROR;
    case S_EXT_QUOTED:
        if (c == '"') return S_EXT_QUOTED_END;
        if (c == '\\') return S_EXT_QUOTED_ESCAPE;
        return is_text(c) ? S_EXT_QUOTED : S_ERROR;
    case S_EXT_QUOTED_ESCAPE:
        return is_text(c) ? S_EXT_QUOTED : S_ERROR;
    case S_EXT_QUOTED_END:
        if (c == '\r') return S_SIZE_LF;
        if (c == ';') return S_EXT_NAME_START;
        return is_ws(c) ? S_SIZE_BWS : S_ERROR;
    case S_SIZE_LF:
        if (c != '\n') return S_ERROR;
        return d->remaining ? S_DATA : S_TRAILER_START;
    case S_DATA_CR:
        return c == '\r' ? S_DATA_LF : S_ERROR;
    case S_DATA_LF:
        if (c != '\n') return S_ERROR;
        d->saw_digit = 0;
        return S_SIZE;
    case S_TRAILER_START:
        if (c == '\r') return S_FINAL_LF;
        return is_tchar(c) ? S_TRAILER_NAME : S_ERROR; /* whitespace here is obs-fold */
    case S_TRAILER_NAME:
        if (is_tchar(c)) return S_TRAILER_NAME;
        return c == ':' ? S_TRAILER_VALUE : S_ERROR;
    case S_TRAILER_VALUE:
        if (c == '\r') return S_TRAILER_LF;
        return is_text(c) ? S_TRAILER_VALUE : S_ERROR;
    case S_TRAILER_LF:
        return c == '\n' ? S_TRAILER_START : S_ERROR;
    case S_FINAL_LF:
        return c == '\n' ? S_DONE : S_ERROR;
    default:
        return S_ERROR;
    }
}

static int in_trailers(uint8_t state) {
    return state >= S_TRAILER_START && state <= S_FINAL_LF;
}

tp_chunk_result tp_chunked_decode(tp_chunked_decoder *d, const uint8_t *buf, size_t len,
                                  size_t *consumed, const uint8_t **data, size_t *data_len) {
    size_t p = 0;
    *data = NULL;
    *data_len = 0;
    for (;;) {
        if (d->state == S_DONE) {
            *consumed = p;
            return TP_CHUNK_DONE;
        }
        if (d->state == S_ERROR) {
            *consumed = p;
            return TP_CHUNK_ERROR;
        }
        if (p == len) {
            *consumed = p;
            return TP_CHUNK_NEED_MORE;
        }
        if (d->state == S_DATA) {
            size_t avail = len - p;
            size_t n = d->remaining < avail ? (size_t)d->remaining : avail;
            *data = buf + p;
            *data_len = n;
            d->remaining -= n;
            if (d->remaining == 0) d->state = S_DATA_CR;
            *consumed = p + n;
            return TP_CHUNK_DATA;
        }
        /* line_len counts the bytes of the current size line before this one (so, in
         * S_SIZE, the digits so far), or of the whole trailer section. */
        uint32_t cap = in_trailers(d->state) ? MAX_TRAILER_BYTES : MAX_SIZE_LINE;
        if (d->line_len >= cap) {
            d->state = S_ERROR;
            continue;
        }
        uint8_t prev = d->state;
        d->state = step_framing(d, buf[p]);
        d->line_len = (prev == S_SIZE_LF || prev == S_DATA_LF) ? 0 : d->line_len + 1;
        p++;
    }
}
