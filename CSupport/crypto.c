/*
 * crypto.c — public keys from JWK parameters and JWS signature checks (OpenSSL 3).
 *
 * Keys are built only through the provider APIs (EVP_PKEY_fromdata / OSSL_PARAM), so
 * nothing here touches the deprecated RSA/EC_KEY structures. A key never changes
 * after it is built; every check uses its own EVP_MD_CTX, which is what makes one key
 * safe to share between worker threads. Digests are fetched once per process:
 * EVP_sha256() and friends would repeat a provider fetch on every call.
 */
#include "turnpike_shim.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

struct tp_pubkey {
    EVP_PKEY *pkey;
    tp_key_kind kind;
};

#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 16384
#define MAX_MSG_BYTES (64u * 1024u * 1024u)

static EVP_MD *md_sha256, *md_sha384, *md_sha512;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void fetch_digests(void) {
    md_sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    md_sha384 = EVP_MD_fetch(NULL, "SHA2-384", NULL);
    md_sha512 = EVP_MD_fetch(NULL, "SHA2-512", NULL);
}

static tp_pubkey *wrap(EVP_PKEY *pkey, tp_key_kind kind) {
    tp_pubkey *key = malloc(sizeof *key);
    if (key == NULL) {
        EVP_PKEY_free(pkey);
        return NULL;
    }
    key->pkey = pkey;
    key->kind = kind;
    return key;
}

/* Builds a public key of `type` from params; NULL (and a clean error queue) on
 * failure. */
static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM *params) {
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    if (pkey == NULL) ERR_clear_error();
    return pkey;
}

/* The full public-key validation OpenSSL offers (for EC: the point is on the curve
 * and in the right subgroup). */
static int public_check(EVP_PKEY *pkey) {
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok = ctx != NULL && EVP_PKEY_public_check(ctx) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) ERR_clear_error();
    return ok;
}

tp_pubkey *tp_pubkey_new_rsa(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len) {
    if (n == NULL || e == NULL) return NULL;
    while (n_len > 0 && n[0] == 0) n++, n_len--;
    while (e_len > 0 && e[0] == 0) e++, e_len--;
    /* e: odd, at least 3, at most 64 bits (RFC 7518 keys use 65537). */
    if (n_len * 8 < RSA_MIN_BITS - 7 || n_len * 8 > RSA_MAX_BITS || e_len == 0 || e_len > 8)
        return NULL;
    if ((e[e_len - 1] & 1) == 0 || (e_len == 1 && e[0] < 3)) return NULL;

    EVP_PKEY *pkey = NULL;
    BIGNUM *bn_n = BN_bin2bn(n, (int)n_len, NULL);
    BIGNUM *bn_e = BN_bin2bn(e, (int)e_len, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    if (bn_n != NULL && bn_e != NULL && bld != NULL &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) &&
        (params = OSSL_PARAM_BLD_to_param(bld)) != NULL) {
        pkey = pkey_from_params("RSA", params);
    }
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    if (pkey != NULL && (EVP_PKEY_get_bits(pkey) < RSA_MIN_BITS || !public_check(pkey))) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    ERR_clear_error();
    return pkey == NULL ? NULL : wrap(pkey, TP_KEY_RSA);
}

tp_pubkey *tp_pubkey_new_ec(tp_key_kind kind, const uint8_t *x, size_t x_len,
                            const uint8_t *y, size_t y_len) {
    size_t size;
    const char *group;
    if (kind == TP_KEY_EC_P256) {
        size = 32;
        group = "prime256v1";
    } else if (kind == TP_KEY_EC_P384) {
        size = 48;
        group = "secp384r1";
    } else {
        return NULL;
    }
    if (x == NULL || y == NULL || x_len != size || y_len != size) return NULL;

    uint8_t point[1 + 2 * 48];  /* uncompressed SEC1 point: 04 || x || y */
    point[0] = 0x04;
    memcpy(point + 1, x, size);
    memcpy(point + 1 + size, y, size);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * size),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY *pkey = pkey_from_params("EC", params);
    if (pkey != NULL && !public_check(pkey)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    return pkey == NULL ? NULL : wrap(pkey, kind);
}

tp_pubkey *tp_pubkey_new_ed25519(const uint8_t *x, size_t x_len) {
    if (x == NULL || x_len != 32) return NULL;
    EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, x, x_len);
    if (pkey == NULL) {
        ERR_clear_error();
        return NULL;
    }
    return wrap(pkey, TP_KEY_ED25519);
}

tp_key_kind tp_pubkey_kind(const tp_pubkey *key) { return key->kind; }

void tp_pubkey_free(tp_pubkey *key) {
    if (key == NULL) return;
    EVP_PKEY_free(key->pkey);
    free(key);
}

/* Appends the DER INTEGER for the unsigned big-endian `v` (minimal length, a 0x00
 * before a set high bit). Returns the bytes written (at most 2 + 1 + len). */
static size_t der_integer(uint8_t *out, const uint8_t *v, size_t len) {
    while (len > 1 && v[0] == 0) v++, len--;
    size_t pad = (v[0] & 0x80) ? 1 : 0;
    out[0] = 0x02;
    out[1] = (uint8_t)(len + pad);
    out[2] = 0x00;
    memcpy(out + 2 + pad, v, len);
    return 2 + pad + len;
}

/* JWS carries ECDSA signatures as raw r||s (RFC 7518 §3.4); OpenSSL wants the DER
 * ECDSA-Sig-Value. For P-384 the content is at most 2 * (2 + 49) = 102 bytes, so the
 * short length form always fits. Returns the DER length, 0 for a wrong size. */
static size_t ecdsa_raw_to_der(const uint8_t *sig, size_t sig_len, size_t field,
                               uint8_t out[2 + 2 * (3 + 48)]) {
    if (sig_len != 2 * field) return 0;
    size_t n = 2;
    n += der_integer(out + n, sig, field);
    n += der_integer(out + n, sig + field, field);
    out[0] = 0x30;
    out[1] = (uint8_t)(n - 2);
    return n;
}

int tp_pubkey_verify(const tp_pubkey *key, tp_sig_alg alg, const uint8_t *msg,
                     size_t msg_len, const uint8_t *sig, size_t sig_len) {
    if (key == NULL || msg == NULL || sig == NULL || msg_len > MAX_MSG_BYTES) return -1;
    pthread_once(&md_once, fetch_digests);

    const EVP_MD *md = NULL;
    int pss = 0;
    size_t ec_field = 0;
    tp_key_kind needed;
    switch (alg) {
    case TP_ALG_RS256: md = md_sha256; needed = TP_KEY_RSA; break;
    case TP_ALG_RS384: md = md_sha384; needed = TP_KEY_RSA; break;
    case TP_ALG_RS512: md = md_sha512; needed = TP_KEY_RSA; break;
    case TP_ALG_PS256: md = md_sha256; needed = TP_KEY_RSA; pss = 1; break;
    case TP_ALG_ES256: md = md_sha256; needed = TP_KEY_EC_P256; ec_field = 32; break;
    case TP_ALG_ES384: md = md_sha384; needed = TP_KEY_EC_P384; ec_field = 48; break;
    case TP_ALG_EDDSA: needed = TP_KEY_ED25519; break;
    default: return -1;
    }
    if (key->kind != needed) return -1;
    if (alg != TP_ALG_EDDSA && md == NULL) return -1;

    uint8_t der[2 + 2 * (3 + 48)];
    if (ec_field != 0) {
        sig_len = ecdsa_raw_to_der(sig, sig_len, ec_field, der);
        if (sig_len == 0) return 0;
        sig = der;
    } else if (needed == TP_KEY_RSA && sig_len != (size_t)EVP_PKEY_get_size(key->pkey)) {
        return 0;
    }

    int result = -1;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx != NULL && EVP_DigestVerifyInit(ctx, &pctx, md, NULL, key->pkey) == 1 &&
        (!pss || (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
                  EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0))) {
        int r = EVP_DigestVerify(ctx, sig, sig_len, msg, msg_len);
        result = r == 1 ? 1 : 0;
    }
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return result;
}

/* ---- digests for request signing (AWS Signature Version 4) ---- */

#include <openssl/hmac.h>
#include <openssl/sha.h>

void tp_sha256(const uint8_t *data, size_t len, uint8_t out[32]) {
    SHA256(data, len, out);
}

void tp_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len, uint8_t out[32]) {
    unsigned int out_len = 32;
    HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &out_len);
}
