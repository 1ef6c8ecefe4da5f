/* TLS for the load generator: OpenSSL client sessions over memory BIOs, so the bytes
 * move through the connection's own buffers and libuv does all the I/O. */
#include "bench_internal.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

SSL_CTX *tpb_tls_ctx_new(const tpb_config *cfg, char *err, size_t err_len) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        snprintf(err, err_len, "TLS: cannot create a context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (cfg->http2) {
        static const unsigned char h2[] = {2, 'h', '2'};
        SSL_CTX_set_alpn_protos(ctx, h2, sizeof h2);
    } else {
        static const unsigned char h1[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
        SSL_CTX_set_alpn_protos(ctx, h1, sizeof h1);
    }
    if (cfg->insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        int ok = cfg->ca_file ? SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL)
                              : SSL_CTX_set_default_verify_paths(ctx);
        if (ok != 1) {
            snprintf(err, err_len, "TLS: cannot load the CA bundle %s", cfg->ca_file ? cfg->ca_file : "(system)");
            SSL_CTX_free(ctx);
            return NULL;
        }
    }
    return ctx;
}

int tpb_tls_start(tpb_conn *c) {
    tpb_worker *w = c->w;
    c->ssl = SSL_new(w->ssl_ctx);
    if (!c->ssl) return -1;
    c->rbio = BIO_new(BIO_s_mem());
    c->wbio = BIO_new(BIO_s_mem());
    if (!c->rbio || !c->wbio) return -1;
    BIO_set_mem_eof_return(c->rbio, -1);
    SSL_set_bio(c->ssl, c->rbio, c->wbio);
    SSL_set_connect_state(c->ssl);
    const char *name = w->cfg.sni;
    if (name && *name) {
        SSL_set_tlsext_host_name(c->ssl, name);
        if (!w->cfg.insecure) {
            ASN1_OCTET_STRING *ip = a2i_IPADDRESS(name);
            if (ip) {
                ASN1_OCTET_STRING_free(ip);
                X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), name);
            } else {
                SSL_set1_host(c->ssl, name);
            }
        }
    } else if (!w->cfg.insecure) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), w->cfg.ip);
    }
    return 0;
}

void tpb_tls_drain(tpb_conn *c) {
    size_t pending;
    while ((pending = BIO_ctrl_pending(c->wbio)) > 0) {
        if (tp_buf_reserve(&c->out, c->out.len + pending) != 0) return;
        int n = BIO_read(c->wbio, c->out.data + c->out.len, (int)pending);
        if (n <= 0) return;
        c->out.len += (size_t)n;
    }
}

int tpb_tls_step(tpb_conn *c) {
    int r = SSL_do_handshake(c->ssl);
    tpb_tls_drain(c);
    if (r == 1) return 1;
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
    ERR_clear_error();
    return -1;
}

int tpb_tls_alpn_is_h2(const tpb_conn *c) {
    const unsigned char *p = NULL;
    unsigned int n = 0;
    SSL_get0_alpn_selected(c->ssl, &p, &n);
    return n == 2 && memcmp(p, "h2", 2) == 0;
}

void tpb_tls_end(tpb_conn *c) {
    if (!c->ssl) return;
    SSL_free(c->ssl); /* frees both BIOs */
    c->ssl = NULL;
    c->rbio = c->wbio = NULL;
}
