#!/usr/bin/env python3
"""Generates the TEST-ONLY JWKS documents and pre-minted tokens in this folder.

Run from anywhere: python3 make_fixtures.py. Private keys live only in this process:
nothing secret is written. Every token is signed here with python3 `cryptography`,
independently of the Swift/OpenSSL code under test. Token names say what each one
pins down; tests evaluate them at NOW (below).
"""
import base64
import hashlib
import hmac
import json
import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

HERE = os.path.dirname(os.path.abspath(__file__))
ISSUER = "https://issuer.test-only.example"
AUDIENCE = "turnpike-tests"
NOW = 1_700_000_100          # the "current time" the tests pass in
FAR_FUTURE = 4_102_444_800   # 2100-01-01


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint_bytes(n: int) -> bytes:
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def compact(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


rsa_1 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
rsa_2 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
rsa_rs256_only = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ec_256 = ec.generate_private_key(ec.SECP256R1())
ec_384 = ec.generate_private_key(ec.SECP384R1())
ed_1 = ed25519.Ed25519PrivateKey.generate()


def rsa_jwk(key, kid, alg=None, use="sig"):
    pub = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "kid": kid, "use": use, "n": b64u(uint_bytes(pub.n)), "e": b64u(uint_bytes(pub.e))}
    if alg:
        jwk["alg"] = alg
    return jwk


def ec_jwk(key, kid, crv, size, alg):
    pub = key.public_key().public_numbers()
    return {"kty": "EC", "kid": kid, "crv": crv, "alg": alg,
            "x": b64u(pub.x.to_bytes(size, "big")), "y": b64u(pub.y.to_bytes(size, "big"))}


def ed_jwk(key, kid):
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "kid": kid, "crv": "Ed25519", "alg": "EdDSA", "x": b64u(raw)}


main_keys = [
    rsa_jwk(rsa_1, "rsa-1"),
    rsa_jwk(rsa_rs256_only, "rsa-rs256-only", alg="RS256"),
    ec_jwk(ec_256, "ec-p256", "P-256", 32, "ES256"),
    ec_jwk(ec_384, "ec-p384", "P-384", 48, "ES384"),
    ed_jwk(ed_1, "ed-1"),
    # Must be skipped: a symmetric key and an encryption key.
    {"kty": "oct", "kid": "hmac-1", "k": b64u(b"test-only-secret")},
    rsa_jwk(rsa_2, "rsa-enc", use="enc"),
]
jwks = {"keys": main_keys}
jwks_single = {"keys": [rsa_jwk(rsa_1, "rsa-1")]}
jwks_rotated = {"keys": [rsa_jwk(rsa_1, "rsa-1"), rsa_jwk(rsa_2, "rsa-2")]}


def sign(alg, key, signing_input: bytes) -> bytes:
    if alg in ("RS256", "RS384", "RS512"):
        h = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}[alg]
        return key.sign(signing_input, padding.PKCS1v15(), h)
    if alg == "PS256":
        return key.sign(signing_input, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                        hashes.SHA256())
    if alg in ("ES256", "ES384"):
        h, size = (hashes.SHA256(), 32) if alg == "ES256" else (hashes.SHA384(), 48)
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(h)))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if alg == "EdDSA":
        return key.sign(signing_input)
    raise ValueError(alg)


def claims(**overrides):
    c = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-123", "iat": NOW - 100, "nbf": NOW - 100,
         "exp": FAR_FUTURE, "scope": "pets:read pets:write", "email": "someone@test-only.example",
         "groups": ["admin", "dev"], "level": 42, "verified": True}
    for k, v in overrides.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def mint(alg, key, kid, payload, header_extra=None):
    header = {"alg": alg, "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    header.update(header_extra or {})
    signing_input = (b64u(compact(header)) + "." + b64u(compact(payload))).encode()
    return signing_input.decode() + "." + b64u(sign(alg, key, signing_input))


tokens = {}
for alg, key, kid in [("RS256", rsa_1, "rsa-1"), ("RS384", rsa_1, "rsa-1"), ("RS512", rsa_1, "rsa-1"),
                      ("PS256", rsa_1, "rsa-1"), ("ES256", ec_256, "ec-p256"), ("ES384", ec_384, "ec-p384"),
                      ("EdDSA", ed_1, "ed-1")]:
    tokens["valid_" + alg] = mint(alg, key, kid, claims())

rs = lambda payload, **kw: mint("RS256", rsa_1, "rsa-1", payload, **kw)
tokens["expired"] = rs(claims(exp=NOW - 3600))
tokens["expired_within_skew"] = rs(claims(exp=NOW - 30))
tokens["expires_soon"] = rs(claims(exp=NOW + 100))
tokens["nbf_in_future"] = rs(claims(nbf=NOW + 3600))
tokens["iat_in_future"] = rs(claims(iat=NOW + 3600))
tokens["no_exp"] = rs(claims(exp=None))
tokens["wrong_iss"] = rs(claims(iss="https://evil.test-only.example"))
tokens["wrong_aud"] = rs(claims(aud="someone-else"))
tokens["aud_array_one_matches"] = rs(claims(aud=["someone-else", AUDIENCE]))
tokens["client_id_no_aud"] = rs(claims(aud=None, client_id=AUDIENCE, scope=None))
tokens["aud_wrong_client_id_right"] = rs(claims(aud="someone-else", client_id=AUDIENCE))
tokens["scp_array"] = rs(claims(scope=None, scp=["orders:read", "orders:write"]))
tokens["no_scopes"] = rs(claims(scope=None))
tokens["missing_kid"] = mint("RS256", rsa_1, None, claims())
tokens["unknown_kid"] = mint("RS256", rsa_1, "no-such-key", claims())
tokens["rotated_rsa_2"] = mint("RS256", rsa_2, "rsa-2", claims())
tokens["crit_header"] = rs(claims(), header_extra={"crit": ["exp"], "exp": 1})
tokens["ps256_with_rs256_only_key"] = mint("PS256", rsa_rs256_only, "rsa-rs256-only", claims())
tokens["es256_naming_rsa_kid"] = mint("ES256", ec_256, "rsa-1", claims())
tokens["rs256_naming_ec_kid"] = mint("RS256", rsa_1, "ec-p256", claims())

valid = tokens["valid_RS256"]
h, p, s = valid.split(".")
tampered_claims = claims(sub="admin")
tokens["tampered_payload"] = h + "." + b64u(compact(tampered_claims)) + "." + s
sig = bytearray(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
sig[10] ^= 0x01
tokens["tampered_signature"] = h + "." + p + "." + b64u(bytes(sig))

none_header = b64u(compact({"alg": "none", "kid": "rsa-1", "typ": "JWT"}))
tokens["alg_none"] = none_header + "." + p + "."
# The classic confusion forgery: HS256 keyed with the RSA public key's PEM bytes.
pem = rsa_1.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
hs_input = b64u(compact({"alg": "HS256", "kid": "rsa-1", "typ": "JWT"})) + "." + p
tokens["hs256_with_rsa_public_key"] = hs_input + "." + b64u(hmac.new(pem, hs_input.encode(), hashlib.sha256).digest())
tokens["malformed_base64"] = "eyJ!bGciOiJSUzI1NiJ9." + p + "." + s
tokens["malformed_json"] = b64u(b'{"alg":"RS256","kid":"rsa-1"') + "." + p + "." + s
tokens["payload_not_json"] = h + "." + b64u(b"not json") + "." + s
tokens["two_parts"] = h + "." + p
tokens["four_parts"] = valid + ".x"

fixtures = {
    "issuer": ISSUER,
    "audience": AUDIENCE,
    "now": NOW,
    "tokens": tokens,
}
for name, doc in [("test-only-jwks.json", jwks), ("test-only-jwks-single-key.json", jwks_single),
                  ("test-only-jwks-rotated.json", jwks_rotated), ("test-only-tokens.json", fixtures)]:
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
        f.write("\n")
print("wrote", len(tokens), "tokens")
