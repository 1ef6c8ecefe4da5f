"""JWT authorizers against the real binary: tokens minted here with `cryptography`, signing
keys served by a real local JWKS / OpenID discovery server, key rotation without a restart.
Traffic limits (API keys, usage plans, throttles, quotas) are in test_access_control_traffic.py.
"""

import json
import time

import pytest
import requests

from access_helpers import JWKSServer, SigningKey, b64url, claims
from helpers import TIMEOUT, api, config, header_values, integration, wait_until

ISSUER = "https://idp.turnpike.test/realms/it"
AUDIENCE = "turnpike-tests"
UNAUTHORIZED = b'{"message":"Unauthorized"}'
FORBIDDEN = b'{"message":"Forbidden"}'


@pytest.fixture
def jwks():
    server = JWKSServer()
    yield server
    server.close()


def authorizer(jwks_uri=None, issuer=ISSUER, name="idp", **jwt_extra):
    jwt = {"issuer": issuer, "audience": [AUDIENCE, "second-app"], "clockSkewSeconds": 5}
    if jwks_uri is not None:
        jwt["jwksUri"] = jwks_uri
    jwt.update(jwt_extra)
    return {"name": name, "authorizerType": "JWT", "identitySource": ["$request.header.Authorization"],
            "jwtConfiguration": jwt}


def jwt_api():
    """GET /private (JWT), GET /orders (JWT + scope orders/read), GET /public (none); `sub`
    is mapped onto x-user-sub for the upstream."""
    mapped = integration("pass", "http://backend", requestParameters={
        "overwrite:header.x-user-sub": "$context.authorizer.claims.sub"})
    return api(integrations=[mapped], routes=[
        {"routeKey": "GET /private", "target": "pass", "authorizationType": "JWT", "authorizer": "idp"},
        {"routeKey": "GET /orders", "target": "pass", "authorizationType": "JWT", "authorizer": "idp",
         "authorizationScopes": ["orders/read"]},
        {"routeKey": "GET /public", "target": "pass"},
    ])


def start(gateway_factory, upstream, auth):
    return gateway_factory(config([upstream.port], apis=[jwt_api()], authorizers=[auth]))


def get(gw, path, token=None, bearer=True):
    headers = {}
    if token is not None:
        headers["Authorization"] = ("Bearer " + token) if bearer else token
    return requests.get(gw.url + path, headers=headers, timeout=TIMEOUT)


def assert_unauthorized(r, description=None):
    assert r.status_code == 401, (r.status_code, r.text)
    assert r.content == UNAUTHORIZED
    challenge = r.headers.get("www-authenticate")
    assert challenge is not None, r.headers
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge, challenge
    if description is not None:
        assert 'error_description="%s"' % description in challenge, challenge


def wait_for_status(gw, path, token, status, timeout):
    """Polls until `path` with `token` answers `status`; returns that response."""
    def attempt():
        r = get(gw, path, token)
        return r if r.status_code == status else None
    return wait_until(attempt, timeout, interval=0.1, message="GET %s to answer %d" % (path, status))


def file_jwks(tmp_path, keys):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [k.jwk() for k in keys]}))
    return "file://" + str(path)


# -- verification ---------------------------------------------------------------------------


def test_valid_rs256_token_is_admitted_and_its_sub_claim_reaches_the_upstream_as_a_mapped_header(
        gateway_factory, upstream, jwks):
    key = SigningKey("rsa-1", "RS256")
    jwks.set_keys([key])
    gw = start(gateway_factory, upstream, authorizer(jwks.jwks_url))
    token = key.token(claims(ISSUER, sub="alice-42"))
    r = wait_for_status(gw, "/private", token, 200, 10)  # URL keys are fetched in the background
    echo = r.json()
    assert echo["path"] == "/private"
    assert header_values(echo, "x-user-sub") == ["alice-42"]
    # A route without an authorizer is not affected, and maps no claim.
    open_route = get(gw, "/public")
    assert open_route.status_code == 200
    assert header_values(open_route.json(), "x-user-sub") in ([], [""])


@pytest.mark.parametrize("alg", ["ES256", "RS384", "RS512", "PS256", "ES384", "EdDSA"])
def test_token_signed_with_each_supported_algorithm_is_admitted(gateway_factory, upstream, tmp_path, alg):
    key = SigningKey("k-" + alg.lower(), alg)
    other = SigningKey("rsa-other", "RS256")
    gw = start(gateway_factory, upstream, authorizer(file_jwks(tmp_path, [other, key])))
    r = get(gw, "/private", key.token(claims(ISSUER, sub="sub-" + alg)))
    assert r.status_code == 200, (r.status_code, r.text, r.headers.get("www-authenticate"))
    assert header_values(r.json(), "x-user-sub") == ["sub-" + alg]
    # The same claims with the signature of another token: refused.
    good = key.token(claims(ISSUER, sub="tampered"))
    forged = good.rsplit(".", 1)[0] + "." + key.token(claims(ISSUER, sub="other")).rsplit(".", 1)[1]
    assert_unauthorized(get(gw, "/private", forged), "the token signature is invalid")


def test_expired_token_gets_401_unauthorized_with_an_invalid_token_challenge(gateway_factory, upstream, tmp_path):
    key = SigningKey("rsa-1", "RS256")
    gw = start(gateway_factory, upstream, authorizer(file_jwks(tmp_path, [key])))
    now_claims = claims(ISSUER)
    expired = key.token(dict(now_claims, iat=now_claims["iat"] - 3600, exp=now_claims["iat"] - 60))
    r = get(gw, "/private", expired)
    assert_unauthorized(r, "the token has expired")
    assert upstream.stats()["requests"] == 0
    # Within the configured clock skew (5 s) a just-expired token is still accepted.
    assert get(gw, "/private", key.token(dict(now_claims, exp=now_claims["iat"] - 1))).status_code == 200
    # A token without exp (or with one that is not a number) is refused too.
    assert_unauthorized(get(gw, "/private", key.token(claims(ISSUER, exp=None))), "the token has no expiration")
    assert_unauthorized(get(gw, "/private", key.token(claims(ISSUER, exp=str(now_claims["exp"])))))
    # nbf or iat beyond the skew in the future: refused.
    assert_unauthorized(get(gw, "/private", key.token(claims(ISSUER, nbf=now_claims["iat"] + 120))),
                        "the token is not valid yet")
    assert_unauthorized(get(gw, "/private", key.token(claims(ISSUER, iat=now_claims["iat"] + 120))),
                        "the token was issued in the future")
    assert upstream.stats()["requests"] == 1


def test_wrong_audience_or_issuer_gets_401_and_client_id_stands_in_for_a_missing_aud(
        gateway_factory, upstream, tmp_path):
    key = SigningKey("rsa-1", "RS256")
    gw = start(gateway_factory, upstream, authorizer(file_jwks(tmp_path, [key])))
    assert_unauthorized(get(gw, "/private", key.token(claims(ISSUER, audience="someone-else"))),
                        "the token does not have a valid audience")
    assert_unauthorized(get(gw, "/private", key.token(claims("https://evil.test/", audience=AUDIENCE))),
                        "the token does not have a valid issuer")
    # aud may be a list; one configured audience in it is enough.
    assert get(gw, "/private", key.token(claims(ISSUER, audience=["x", "second-app"]))).status_code == 200
    # No aud: client_id is checked instead (API Gateway's rule).
    assert get(gw, "/private", key.token(claims(ISSUER, audience=None, client_id=AUDIENCE))).status_code == 200
    assert_unauthorized(get(gw, "/private", key.token(claims(ISSUER, audience=None, client_id="nope"))))
    # aud present but wrong: client_id is not consulted.
    assert_unauthorized(get(gw, "/private", key.token(claims(ISSUER, audience="nope", client_id=AUDIENCE))))
    assert upstream.stats()["requests"] == 2


def test_missing_or_malformed_token_gets_401(gateway_factory, upstream, tmp_path):
    key = SigningKey("rsa-1", "RS256")
    gw = start(gateway_factory, upstream, authorizer(file_jwks(tmp_path, [key])))
    assert_unauthorized(get(gw, "/private"), "the token is missing")
    assert_unauthorized(get(gw, "/private", "not-a-jwt"))
    assert_unauthorized(get(gw, "/orders"))
    assert upstream.stats()["requests"] == 0


def test_token_without_a_kid_or_with_alg_none_or_hs256_gets_401(gateway_factory, upstream, tmp_path):
    key = SigningKey("rsa-1", "RS256")
    gw = start(gateway_factory, upstream, authorizer(file_jwks(tmp_path, [key])))
    assert_unauthorized(get(gw, "/private", key.token(claims(ISSUER), kid=False)), "the token has no kid")
    header = b64url(json.dumps({"alg": "none", "kid": "rsa-1"}).encode())
    body = b64url(json.dumps(claims(ISSUER)).encode())
    assert_unauthorized(get(gw, "/private", header + "." + body + "."))
    # HS256 keyed with the RSA public key's JWK text (algorithm confusion).
    import hashlib
    import hmac
    hs_header = b64url(json.dumps({"alg": "HS256", "kid": "rsa-1"}).encode())
    mac = hmac.new(json.dumps(key.jwk()).encode(), (hs_header + "." + body).encode(), hashlib.sha256).digest()
    assert_unauthorized(get(gw, "/private", hs_header + "." + body + "." + b64url(mac)))
    assert upstream.stats()["requests"] == 0


def test_token_without_a_required_scope_gets_403_forbidden(gateway_factory, upstream, tmp_path):
    key = SigningKey("rsa-1", "RS256")
    gw = start(gateway_factory, upstream, authorizer(file_jwks(tmp_path, [key])))
    wrong_scope = key.token(claims(ISSUER, scope="profile orders/write"))
    # Admitted (and so cached) on a route that asks for no scope, then refused on one that does.
    assert get(gw, "/private", wrong_scope).status_code == 200
    r = get(gw, "/orders", wrong_scope)
    assert r.status_code == 403, r.text
    assert r.content == FORBIDDEN
    no_scope = get(gw, "/orders", key.token(claims(ISSUER)))
    assert (no_scope.status_code, no_scope.content) == (403, FORBIDDEN)
    challenge = no_scope.headers.get("www-authenticate", "")
    assert 'error="insufficient_scope"' in challenge, challenge
    # `scope` (space separated) or `scp` (a list) carrying the scope: admitted.
    assert get(gw, "/orders", key.token(claims(ISSUER, scope="profile orders/read"))).status_code == 200
    assert get(gw, "/orders", key.token(claims(ISSUER, scp=["orders/read"]))).status_code == 200
    assert upstream.stats()["requests"] == 3
    # A scope that merely contains the required one is not it.
    assert get(gw, "/orders", key.token(claims(ISSUER, scope="orders/read-all"))).status_code == 403


def test_bearer_prefix_is_optional(gateway_factory, upstream, tmp_path):
    key = SigningKey("rsa-1", "RS256")
    gw = start(gateway_factory, upstream, authorizer(file_jwks(tmp_path, [key])))
    with_prefix = get(gw, "/private", key.token(claims(ISSUER, sub="prefixed")))
    without = get(gw, "/private", key.token(claims(ISSUER, sub="bare")), bearer=False)
    assert (with_prefix.status_code, without.status_code) == (200, 200)
    assert header_values(with_prefix.json(), "x-user-sub") == ["prefixed"]
    assert header_values(without.json(), "x-user-sub") == ["bare"]


# -- where the keys come from ------------------------------------------------------------------


def test_keys_are_discovered_from_the_issuers_openid_configuration_when_jwks_uri_is_omitted(
        gateway_factory, upstream, jwks):
    key = SigningKey("rsa-1", "RS256")
    jwks.set_keys([key])
    gw = start(gateway_factory, upstream, authorizer(jwks_uri=None, issuer=jwks.url))
    token = key.token(claims(jwks.url, sub="discovered"))
    r = wait_for_status(gw, "/private", token, 200, 10)
    assert header_values(r.json(), "x-user-sub") == ["discovered"]
    assert jwks.count("/.well-known/openid-configuration") >= 1
    assert jwks.count("/jwks.json") >= 1


def test_tokens_get_401_until_url_keys_are_fetched_then_200_without_restart(gateway_factory, upstream, jwks):
    key = SigningKey("rsa-1", "RS256")
    jwks.set_keys([key])
    jwks.available = False
    gw = start(gateway_factory, upstream, authorizer(jwks.jwks_url, jwksRefreshSeconds=1))
    token = key.token(claims(ISSUER))
    wait_until(lambda: jwks.count("refused") >= 1, 10, message="the gateway's first JWKS fetch")
    assert_unauthorized(get(gw, "/private", token), "the signing keys are not available")
    jwks.available = True
    wait_for_status(gw, "/private", token, 200, 15)


def test_rotated_key_gets_401_once_then_is_fetched_on_the_unknown_kid_without_restart(gateway_factory, upstream, jwks):
    old, new = SigningKey("rsa-old", "RS256"), SigningKey("ec-new", "ES256")
    jwks.set_keys([old])
    # A long periodic refresh: only the unknown-kid refetch can pick the new key up in time.
    gw = start(gateway_factory, upstream, authorizer(jwks.jwks_url, jwksRefreshSeconds=300))
    wait_for_status(gw, "/private", old.token(claims(ISSUER, sub="old")), 200, 10)
    fetches = jwks.count()

    jwks.set_keys([new])  # the identity provider rotates: the old key is gone
    token = new.token(claims(ISSUER, sub="rotated"))
    assert_unauthorized(get(gw, "/private", token), "the token's kid matches no key in the JWKS")
    r = wait_for_status(gw, "/private", token, 200, 15)
    assert header_values(r.json(), "x-user-sub") == ["rotated"]
    assert jwks.count() == fetches + 1
    # A new token under the removed key is now refused.
    assert_unauthorized(get(gw, "/private", old.token(claims(ISSUER, sub="old-again"))))

    # More unknown kids right away do not make the gateway hammer the JWKS server
    # (refetches are rate limited, 10 s by default).
    stranger = SigningKey("rsa-stranger", "RS256")
    for i in range(20):
        assert_unauthorized(get(gw, "/private", stranger.token(claims(ISSUER, sub="s%d" % i))))
    assert jwks.count() <= fetches + 2


def test_periodic_jwks_refresh_picks_up_an_added_key_before_any_token_uses_it(gateway_factory, upstream, jwks):
    first, added = SigningKey("rsa-1", "RS256"), SigningKey("ed-2", "EdDSA")
    jwks.set_keys([first])
    gw = start(gateway_factory, upstream, authorizer(jwks.jwks_url, jwksRefreshSeconds=1))
    wait_for_status(gw, "/private", first.token(claims(ISSUER)), 200, 10)
    jwks.set_keys([first, added])
    seen = jwks.count()
    wait_until(lambda: jwks.count() >= seen + 2, 6, interval=0.1, message="two periodic JWKS refreshes")
    # No unknown-kid miss was needed: the very first request with the new kid is admitted.
    r = get(gw, "/private", added.token(claims(ISSUER, sub="added")))
    assert r.status_code == 200, (r.status_code, r.headers.get("www-authenticate"))
    assert header_values(r.json(), "x-user-sub") == ["added"]


def test_identity_source_can_be_a_query_string_parameter(gateway_factory, upstream, tmp_path):
    key = SigningKey("rsa-1", "RS256")
    auth = authorizer(file_jwks(tmp_path, [key]))
    auth["identitySource"] = ["$request.querystring.access_token"]
    gw = start(gateway_factory, upstream, auth)
    token = key.token(claims(ISSUER, sub="from-query"))
    r = requests.get(gw.url + "/private", params={"access_token": token}, timeout=TIMEOUT)
    assert r.status_code == 200, r.headers.get("www-authenticate")
    assert header_values(r.json(), "x-user-sub") == ["from-query"]
    # The Authorization header is not looked at.
    assert_unauthorized(get(gw, "/private", token), "the token is missing")


def test_cached_token_is_refused_once_it_expires(gateway_factory, upstream, tmp_path):
    key = SigningKey("rsa-1", "RS256")
    gw = start(gateway_factory, upstream, authorizer(file_jwks(tmp_path, [key]), clockSkewSeconds=0))
    token = key.token(claims(ISSUER, lifetime=2))
    with requests.Session() as s:  # one connection: one worker, one token cache
        headers = {"Authorization": "Bearer " + token}
        for _ in range(3):
            assert s.get(gw.url + "/private", headers=headers, timeout=TIMEOUT).status_code == 200
        time.sleep(3.1)
        assert_unauthorized(s.get(gw.url + "/private", headers=headers, timeout=TIMEOUT), "the token has expired")


def test_token_admitted_by_one_authorizer_is_checked_again_by_another(gateway_factory, upstream, tmp_path):
    key = SigningKey("rsa-1", "RS256")
    jwks_uri = file_jwks(tmp_path, [key])
    strict = authorizer(jwks_uri, name="strict")
    strict["jwtConfiguration"]["audience"] = ["only-strict"]
    routes = [{"routeKey": "GET /private", "target": "pass", "authorizationType": "JWT", "authorizer": "idp"},
              {"routeKey": "GET /strict", "target": "pass", "authorizationType": "JWT", "authorizer": "strict"}]
    cfg = config([upstream.port], apis=[api(routes=routes)], authorizers=[authorizer(jwks_uri), strict])
    gw = gateway_factory(cfg)
    token = key.token(claims(ISSUER))
    with requests.Session() as s:  # one connection: one worker, one token cache
        headers = {"Authorization": "Bearer " + token}
        assert s.get(gw.url + "/private", headers=headers, timeout=TIMEOUT).status_code == 200
        assert_unauthorized(s.get(gw.url + "/strict", headers=headers, timeout=TIMEOUT),
                            "the token does not have a valid audience")


def test_jwks_served_chunked_with_many_keys_is_read(gateway_factory, upstream, jwks):
    """Real identity providers often answer chunked; 80 keys make a body of about 15 KB."""
    keys = [SigningKey("ec-%02d" % i, "ES256") for i in range(80)]
    jwks.set_keys(keys)
    jwks.chunk_size = 700
    gw = start(gateway_factory, upstream, authorizer(jwks.jwks_url))
    wait_for_status(gw, "/private", keys[-1].token(claims(ISSUER)), 200, 10)
    assert get(gw, "/private", keys[0].token(claims(ISSUER))).status_code == 200


def test_unusable_keys_in_the_jwks_are_skipped_and_the_usable_ones_work(gateway_factory, upstream, tmp_path):
    """JWKS documents of real identity providers also carry encryption and symmetric keys."""
    key = SigningKey("rsa-sig", "RS256")
    encryption = dict(SigningKey("rsa-enc", "RS256").jwk(), use="enc", alg="RSA-OAEP")
    symmetric = {"kty": "oct", "kid": "hs", "k": b64url(b"s" * 32)}
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [symmetric, encryption, key.jwk()]}))
    gw = start(gateway_factory, upstream, authorizer("file://" + str(path)))
    assert get(gw, "/private", key.token(claims(ISSUER))).status_code == 200
