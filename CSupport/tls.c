/*
 * tls.c — TLS termination with OpenSSL 3 through memory BIOs: the socket stays a libuv
 * stream; ciphertext read from it goes into the connection's read BIO, plaintext comes
 * out of SSL_read into the same read buffer the HTTP/1.1 parser uses, and everything
 * the connection writes is encrypted into the write BIO and sent with the usual
 * tp_stream_write (one write per message, as for plain connections).
 *
 * Certificates are chosen by SNI: exact names first, then a wildcard one label deep,
 * then the default certificate (or a refused handshake, as configured).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <openssl/ocsp.h>
#include "internal.h"

/* Buffered ciphertext above which socket reads pause (the client is ahead of us). */
#define TP_TLS_IN_HIGH (256u * 1024u)

/* A DER OCSP response stapled to handshakes that ask for one (RFC 6066 §8). */
typedef struct {
    unsigned char *der;
    long len;
} tp_ocsp_staple;

typedef struct {
    char name[256];     /* lower case; for a wildcard, the part after "*" (".example.com") */
    int wildcard;
    SSL_CTX *ctx;
    tp_ocsp_staple *staple;  /* its own allocation: the entries array may move */
} tp_tls_entry;

struct tp_tls_ctx {
    atomic_int refs;
    SSL_CTX *base;          /* every handshake starts here; holds the default certificate */
    int has_default;
    tp_ocsp_staple *default_staple;
    tp_tls_options options;
    tp_tls_entry *entries;
    int count, cap;
};

static void set_error(char *err, size_t len, const char *what, const char *detail) {
    unsigned long e = ERR_get_error();
    char ossl[256] = "";
    if (e) ERR_error_string_n(e, ossl, sizeof ossl);
    snprintf(err, len, "%s%s%s%s%s", what, detail ? " " : "", detail ? detail : "", ossl[0] ? ": " : "", ossl);
    ERR_clear_error();
}

static const unsigned char alpn_http11[] = "\x08http/1.1";
static const unsigned char alpn_h2_http11[] = "\x02h2\x08http/1.1";

/* ALPN: h2 first when the listener serves HTTP/2 (arg non-NULL), then http/1.1; a client
 * offering neither gets no ALPN and speaks HTTP/1.1. */
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg) {
    (void)ssl;
    const unsigned char *ours = arg ? alpn_h2_http11 : alpn_http11;
    unsigned ours_len = arg ? sizeof alpn_h2_http11 - 1 : sizeof alpn_http11 - 1;
    unsigned char *selected = NULL;
    if (SSL_select_next_proto(&selected, outlen, ours, ours_len, in, inlen) == OPENSSL_NPN_NEGOTIATED) {
        *out = selected;
        return SSL_TLSEXT_ERR_OK;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

static SSL_CTX *new_ssl_ctx(const tp_tls_options *o) {
    SSL_CTX *c = SSL_CTX_new(TLS_server_method());
    if (!c) return NULL;
    SSL_CTX_set_min_proto_version(c, o->min_tls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
    SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
    /* TLS 1.2: forward-secret AEAD suites only (TLS 1.3 keeps OpenSSL's defaults). */
    SSL_CTX_set_cipher_list(c, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                               "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                               "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
    SSL_CTX_set_alpn_select_cb(c, select_alpn, o->alpn_h2 ? (void *)alpn_h2_http11 : NULL);
    static const unsigned char sid[] = "turnpike";
    SSL_CTX_set_session_id_context(c, sid, sizeof sid - 1);
    SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
    return c;
}

static int load_cert(SSL_CTX *c, const char *chain, const char *key, const char *ca, char *err, size_t len) {
    if (SSL_CTX_use_certificate_chain_file(c, chain) != 1) { set_error(err, len, "certificate chain", chain); return -1; }
    if (SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1) { set_error(err, len, "private key", key); return -1; }
    if (SSL_CTX_check_private_key(c) != 1) { set_error(err, len, "the private key does not match the certificate in", chain); return -1; }
    if (ca) {
        if (SSL_CTX_load_verify_locations(c, ca, NULL) != 1) { set_error(err, len, "truststore", ca); return -1; }
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);
        if (names) SSL_CTX_set_client_CA_list(c, names);
        SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    return 0;
}

static int on_server_name(SSL *ssl, int *alert, void *arg) {
    tp_tls_ctx *t = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    /* RFC 6066 §3 forbids IP literals in SNI, yet some clients (wrk, scripts) send the
     * address they dialled: treat that as no SNI at all. */
    unsigned char ip[16];
    if (name && (inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1)) name = NULL;
    if (!name || !*name) {
        if (t->has_default) return SSL_TLSEXT_ERR_OK;
        *alert = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    const char *dot = strchr(name, '.');
    tp_tls_entry *wild = NULL;
    for (int i = 0; i < t->count; i++) {
        tp_tls_entry *e = &t->entries[i];
        if (!e->wildcard && strcasecmp(e->name, name) == 0) { wild = e; break; }
        if (e->wildcard && !wild && dot && dot != name && strcasecmp(e->name, dot) == 0) wild = e;
    }
    if (wild) {
        SSL_set_SSL_CTX(ssl, wild->ctx);
        /* The verify mode was copied from the base context at SSL_new: take the entry's. */
        SSL_set_verify(ssl, SSL_CTX_get_verify_mode(wild->ctx), NULL);
        return SSL_TLSEXT_ERR_OK;
    }
    if (t->has_default && !t->options.refuse_unknown_names) return SSL_TLSEXT_ERR_OK;
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

tp_tls_ctx *tp_tls_ctx_new(const tp_tls_options *options, char *err, size_t err_len) {
    tp_tls_ctx *t = calloc(1, sizeof *t);
    if (!t) { snprintf(err, err_len, "out of memory"); return NULL; }
    atomic_init(&t->refs, 1);
    t->options = *options;
    t->base = new_ssl_ctx(options);
    if (!t->base) { set_error(err, err_len, "TLS context", NULL); free(t); return NULL; }
    SSL_CTX_set_tlsext_servername_callback(t->base, on_server_name);
    SSL_CTX_set_tlsext_servername_arg(t->base, t);
    return t;
}

int tp_tls_ctx_add(tp_tls_ctx *t, const char *server_name, const char *chain, const char *key,
                   const char *client_ca, char *err, size_t err_len) {
    if (!server_name) {
        if (load_cert(t->base, chain, key, client_ca, err, err_len) != 0) return -1;
        t->has_default = 1;
        return 0;
    }
    if (strlen(server_name) >= sizeof t->entries[0].name) { snprintf(err, err_len, "server name too long"); return -1; }
    if (t->count == t->cap) {
        int cap = t->cap ? t->cap * 2 : 8;
        tp_tls_entry *e = realloc(t->entries, (size_t)cap * sizeof *e);
        if (!e) { snprintf(err, err_len, "out of memory"); return -1; }
        t->entries = e;
        t->cap = cap;
    }
    SSL_CTX *c = new_ssl_ctx(&t->options);
    if (!c) { set_error(err, err_len, "TLS context for", server_name); return -1; }
    if (load_cert(c, chain, key, client_ca, err, err_len) != 0) { SSL_CTX_free(c); return -1; }
    tp_tls_entry *e = &t->entries[t->count++];
    e->wildcard = server_name[0] == '*' && server_name[1] == '.';
    snprintf(e->name, sizeof e->name, "%s", e->wildcard ? server_name + 1 : server_name);
    for (char *p = e->name; *p; p++) if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
    e->ctx = c;
    e->staple = NULL;
    return 0;
}

/* Status callback: the staple of the certificate chosen (by SNI) for this handshake. */
static int on_status_request(SSL *ssl, void *arg) {
    tp_ocsp_staple *staple = arg;
    if (!staple || !staple->der || SSL_get_tlsext_status_type(ssl) != TLSEXT_STATUSTYPE_ocsp)
        return SSL_TLSEXT_ERR_NOACK;
    unsigned char *copy = OPENSSL_malloc((size_t)staple->len);  /* OpenSSL frees it */
    if (!copy) return SSL_TLSEXT_ERR_NOACK;
    memcpy(copy, staple->der, (size_t)staple->len);
    SSL_set_tlsext_status_ocsp_resp(ssl, copy, staple->len);
    return SSL_TLSEXT_ERR_OK;
}

int tp_tls_ctx_set_ocsp_staple(tp_tls_ctx *t, const char *server_name, const char *der_path, char *err,
                               size_t err_len) {
    tp_ocsp_staple **slot = NULL;
    SSL_CTX *ctx = NULL;
    if (!server_name) {
        slot = &t->default_staple;
        ctx = t->base;
    } else {
        for (int i = t->count - 1; i >= 0 && !slot; i--) {
            tp_tls_entry *e = &t->entries[i];
            const char *want = e->wildcard ? server_name + 1 : server_name;
            if (strcasecmp(e->name, want) == 0) { slot = &e->staple; ctx = e->ctx; }
        }
        if (!slot) { snprintf(err, err_len, "no certificate was added for %s", server_name); return -1; }
    }
    if (!*slot && !(*slot = calloc(1, sizeof **slot))) { snprintf(err, err_len, "out of memory"); return -1; }
    tp_ocsp_staple *staple = *slot;
    FILE *f = fopen(der_path, "rb");
    if (!f) { snprintf(err, err_len, "OCSP staple %s: cannot be read", der_path); return -1; }
    unsigned char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    int too_big = !feof(f);
    fclose(f);
    const unsigned char *p = buf;
    OCSP_RESPONSE *resp = n && !too_big ? d2i_OCSP_RESPONSE(NULL, &p, (long)n) : NULL;
    if (!resp) { set_error(err, err_len, "OCSP staple is not a DER OCSP response (at most 64 KiB):", der_path); return -1; }
    OCSP_RESPONSE_free(resp);
    unsigned char *der = malloc(n);
    if (!der) { snprintf(err, err_len, "out of memory"); return -1; }
    memcpy(der, buf, n);
    free(staple->der);
    staple->der = der;
    staple->len = (long)n;
    SSL_CTX_set_tlsext_status_cb(ctx, on_status_request);
    SSL_CTX_set_tlsext_status_arg(ctx, staple);
    return 0;
}

void tp_tls_ctx_retain(tp_tls_ctx *t) { atomic_fetch_add(&t->refs, 1); }

void tp_tls_ctx_release(tp_tls_ctx *t) {
    if (!t || atomic_fetch_sub(&t->refs, 1) != 1) return;
    for (int i = 0; i < t->count; i++) {
        SSL_CTX_free(t->entries[i].ctx);
        if (t->entries[i].staple) free(t->entries[i].staple->der);
        free(t->entries[i].staple);
    }
    if (t->default_staple) free(t->default_staple->der);
    free(t->default_staple);
    free(t->entries);
    SSL_CTX_free(t->base);
    free(t);
}

/* ---- per connection ---- */

int tp_tls_conn_start(tp_conn *c, tp_tls_ctx *t) {
    c->ssl = SSL_new(t->base);
    c->rbio = BIO_new(BIO_s_mem());
    c->wbio = BIO_new(BIO_s_mem());
    if (!c->ssl || !c->rbio || !c->wbio) {
        if (c->ssl) SSL_free(c->ssl);
        else { BIO_free(c->rbio); BIO_free(c->wbio); }
        c->ssl = NULL;
        c->rbio = c->wbio = NULL;
        return -1;
    }
    BIO_set_mem_eof_return(c->rbio, -1);
    SSL_set_bio(c->ssl, c->rbio, c->wbio);
    SSL_set_accept_state(c->ssl);
    tp_tls_ctx_retain(t);
    c->tls = t;
    c->info.tls = 1;
    return 0;
}

/* Sends whatever the TLS engine has produced. */
static int flush_wbio(tp_conn *c) {
    char *data = NULL;
    long len = BIO_get_mem_data(c->wbio, &data);
    if (len <= 0) return 0;
    uv_buf_t b = uv_buf_init(data, (unsigned)len);
    int r = tp_conn_write_raw(c, &b, 1);
    (void)BIO_reset(c->wbio);
    return r;
}

static void record_peer(tp_conn *c) {
    const char *sni = SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
    if (sni) snprintf(c->info.tls_server_name, sizeof c->info.tls_server_name, "%s", sni);
    X509 *peer = SSL_get1_peer_certificate(c->ssl);
    if (peer) {
        if (SSL_get_verify_result(c->ssl) == X509_V_OK) {
            BIO *m = BIO_new(BIO_s_mem());
            if (m) {
                X509_NAME_print_ex(m, X509_get_subject_name(peer), 0, XN_FLAG_RFC2253);
                int n = BIO_read(m, c->info.tls_client_subject, sizeof c->info.tls_client_subject - 1);
                c->info.tls_client_subject[n > 0 ? n : 0] = 0;
                BIO_free(m);
                c->info.tls_client_verified = 1;
            }
        }
        X509_free(peer);
    }
}

int tp_tls_conn_pump(tp_conn *c) {
    if (!c->tls_ready) {
        int r = SSL_do_handshake(c->ssl);
        if (flush_wbio(c) != 0) return -1;
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
            ERR_clear_error();
            return -1;  /* a failed handshake: the alert (if any) went out above */
        }
        c->tls_ready = 1;
        record_peer(c);
    }
    for (;;) {
        tp_conn_make_room(c);
        size_t space = c->rcap - c->rlen;
        if (space == 0) break;  /* the parser has to consume first */
        int n = SSL_read(c->ssl, c->rbuf + c->rlen, space > INT32_MAX ? INT32_MAX : (int)space);
        if (n > 0) { c->rlen += (size_t)n; continue; }
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_READ) break;
        if (e == SSL_ERROR_ZERO_RETURN) { c->peer_eof = 1; break; }
        ERR_clear_error();
        flush_wbio(c);
        return -1;
    }
    return flush_wbio(c);  /* e.g. TLS 1.3 session tickets after the handshake */
}

int tp_tls_conn_write(tp_conn *c, const uv_buf_t *bufs, unsigned n) {
    tp_worker *w = c->worker;
    size_t total = 0;
    for (unsigned i = 0; i < n; i++) total += bufs[i].len;
    if (total <= 16384 && n > 1) {
        /* One record for a small message: head and body together. */
        w->scratch.len = 0;
        for (unsigned i = 0; i < n; i++) tp_buf_append(&w->scratch, bufs[i].base, bufs[i].len);
        if (w->scratch.len && SSL_write(c->ssl, w->scratch.data, (int)w->scratch.len) <= 0) return -1;
    } else {
        for (unsigned i = 0; i < n; i++) {
            if (bufs[i].len == 0) continue;
            if (SSL_write(c->ssl, bufs[i].base, (int)bufs[i].len) <= 0) return -1;
        }
    }
    return flush_wbio(c);
}

void tp_tls_conn_close_notify(tp_conn *c) {
    if (!c->ssl || !c->tls_ready) return;
    SSL_shutdown(c->ssl);
    flush_wbio(c);
}

void tp_tls_conn_free(tp_conn *c) {
    if (c->ssl) SSL_free(c->ssl);  /* frees both BIOs */
    c->ssl = NULL;
    if (c->tls) tp_tls_ctx_release(c->tls);
    c->tls = NULL;
}

size_t tp_tls_conn_buffered(tp_conn *c) { return c->rbio ? (size_t)BIO_ctrl_pending(c->rbio) : 0; }

int tp_tls_send_output(BIO *wbio, uv_stream_t *s, uint32_t *pending, tp_write_done done, void *owner) {
    char *data = NULL;
    long len = BIO_get_mem_data(wbio, &data);
    if (len <= 0) return 0;
    uv_buf_t b = uv_buf_init(data, (unsigned)len);
    int r = tp_stream_write(s, &b, 1, pending, done, owner);
    (void)BIO_reset(wbio);
    return r;
}

/* ---- toward upstreams ---- */

struct tp_tls_client {
    atomic_int refs;
    SSL_CTX *ctx;
    char server_name[256];
    int name_is_ip;
};

tp_tls_client *tp_tls_client_new(const char *ca_file, const char *server_name, const char *chain,
                                 const char *key, char *err, size_t err_len) {
    tp_tls_client *t = calloc(1, sizeof *t);
    if (!t) { snprintf(err, err_len, "out of memory"); return NULL; }
    atomic_init(&t->refs, 1);
    t->ctx = SSL_CTX_new(TLS_client_method());
    if (!t->ctx) { set_error(err, err_len, "TLS client context", NULL); free(t); return NULL; }
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
    int ok = ca_file ? SSL_CTX_load_verify_locations(t->ctx, ca_file, NULL) : SSL_CTX_set_default_verify_paths(t->ctx);
    if (ok != 1) { set_error(err, err_len, "CA bundle", ca_file ? ca_file : "(system)"); tp_tls_client_release(t); return NULL; }
    if (chain && key) {
        if (SSL_CTX_use_certificate_chain_file(t->ctx, chain) != 1) { set_error(err, err_len, "client certificate", chain); tp_tls_client_release(t); return NULL; }
        if (SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(t->ctx) != 1) {
            set_error(err, err_len, "client key", key);
            tp_tls_client_release(t);
            return NULL;
        }
    }
    static const unsigned char alpn[] = "\x08http/1.1";
    SSL_CTX_set_alpn_protos(t->ctx, alpn, sizeof alpn - 1);
    snprintf(t->server_name, sizeof t->server_name, "%s", server_name ? server_name : "");
    unsigned char ip[16];
    t->name_is_ip = inet_pton(AF_INET, t->server_name, ip) == 1 || inet_pton(AF_INET6, t->server_name, ip) == 1;
    return t;
}

void tp_tls_client_retain(tp_tls_client *t) { atomic_fetch_add(&t->refs, 1); }

void tp_tls_client_release(tp_tls_client *t) {
    if (!t || atomic_fetch_sub(&t->refs, 1) != 1) return;
    SSL_CTX_free(t->ctx);
    free(t);
}

SSL *tp_tls_client_ssl(tp_tls_client *t, BIO **rbio, BIO **wbio) {
    SSL *ssl = SSL_new(t->ctx);
    BIO *r = BIO_new(BIO_s_mem()), *w = BIO_new(BIO_s_mem());
    if (!ssl || !r || !w) {
        SSL_free(ssl);
        BIO_free(r);
        BIO_free(w);
        return NULL;
    }
    BIO_set_mem_eof_return(r, -1);
    SSL_set_bio(ssl, r, w);
    if (t->server_name[0]) {
        if (t->name_is_ip) {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), t->server_name);
        } else {
            SSL_set_tlsext_host_name(ssl, t->server_name);
            SSL_set1_host(ssl, t->server_name);
        }
    }
    SSL_set_connect_state(ssl);
    *rbio = r;
    *wbio = w;
    return ssl;
}
