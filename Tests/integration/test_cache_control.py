"""`Cache-Control: max-age=0` from clients against the real binary: authorized callers (a JWT
whose scope is in cacheInvalidationScopes, or a route/stage with
requireAuthorizationForCacheControl: false) fetch fresh and replace the entry; unauthorized
callers get what unauthorizedCacheControlHeaderStrategy says — FAIL_WITH_403, or the cached
response with (SUCCEED_WITH_RESPONSE_HEADER) or without (SUCCEED_WITHOUT_RESPONSE_HEADER) a
`warning: 199 ...` field. Tokens are minted here and verified against a file JWKS.
"""

import json

import pytest
import requests

from access_helpers import SigningKey, claims
from helpers import TIMEOUT, api, config, header_values, integration

ISSUER = "https://idp.turnpike.test/realms/cache"
AUDIENCE = "turnpike-tests"
INVALIDATE = "execute-api:InvalidateCache"
STRATEGIES = ["FAIL_WITH_403", "SUCCEED_WITH_RESPONSE_HEADER", "SUCCEED_WITHOUT_RESPONSE_HEADER"]


@pytest.fixture(scope="module")
def key():
    return SigningKey("rsa-cache", "RS256")


def jwks_file(tmp_path, key):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [key.jwk()]}))
    return "file://" + str(path)


def cache_control_config(port, jwks_uri, strategy=None, stage_require=None, scopes=None):
    routes = [
        {"routeKey": "GET /jwt/data", "target": "pass", "authorizationType": "JWT", "authorizer": "idp"},
        {"routeKey": "GET /open/data", "target": "pass"},
        {"routeKey": "GET /free/data", "target": "pass"},
    ]
    stage = {
        "stageName": "$default",
        "cacheClusterEnabled": True,
        "cacheCapacityBytes": 1_000_000,
        "defaultRouteSettings": {"cachingEnabled": True, "cacheTtlInSeconds": 300},
        # A route may say so itself: anyone may bypass the cache of /free/data.
        "routeSettings": {"GET /free/data": {"requireAuthorizationForCacheControl": False}},
    }
    if strategy is not None:
        stage["unauthorizedCacheControlHeaderStrategy"] = strategy
    if stage_require is not None:
        stage["requireAuthorizationForCacheControl"] = stage_require
    if scopes is not None:
        stage["cacheInvalidationScopes"] = scopes
    authorizer = {"name": "idp", "authorizerType": "JWT", "identitySource": ["$request.header.Authorization"],
                  "jwtConfiguration": {"issuer": ISSUER, "audience": [AUDIENCE], "jwksUri": jwks_uri}}
    return config([port], apis=[api(integrations=[integration("pass", "http://backend")], routes=routes,
                                    stages=[stage])], authorizers=[authorizer])


def get(gw, path, probe, token=None, cache_control=None):
    headers = {"x-probe": str(probe)}
    if token:
        headers["Authorization"] = "Bearer " + token
    if cache_control:
        headers["Cache-Control"] = cache_control
    return requests.get(gw.url + path, headers=headers, timeout=TIMEOUT)


def probe_of(r):
    return header_values(r.json(), "x-probe")


def hits(upstream):
    return upstream.stats()["requests"]


def assert_served(r, cache, probe):
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.headers.get("x-cache") == cache, r.headers
    assert probe_of(r) == [str(probe)], r.text


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_max_age_0_authorized_refreshes_and_unauthorized_follows_the_strategy(
        gateway_factory, upstream, tmp_path, key, strategy):
    gw = gateway_factory(cache_control_config(upstream.port, jwks_file(tmp_path, key), strategy=strategy))
    invalidator = key.token(claims(ISSUER, AUDIENCE, scope="pets:read " + INVALIDATE))
    reader = key.token(claims(ISSUER, AUDIENCE, scope="pets:read"))

    # Fill, then a hit.
    assert_served(get(gw, "/jwt/data", 1, reader), "Miss", 1)
    assert_served(get(gw, "/jwt/data", 2, reader), "Hit", 1)
    assert hits(upstream) == 1

    # Authorized (scope execute-api:InvalidateCache): fetched fresh, and the entry is replaced.
    fresh = get(gw, "/jwt/data", 3, invalidator, "max-age=0")
    assert_served(fresh, "Miss", 3)
    assert "warning" not in fresh.headers
    assert hits(upstream) == 2
    assert_served(get(gw, "/jwt/data", 4, reader), "Hit", 3)
    # `no-cache` asks the same.
    assert_served(get(gw, "/jwt/data", 5, invalidator, "no-cache"), "Miss", 5)
    assert hits(upstream) == 3

    # Unauthorized: a valid token without the scope, and an anonymous caller on an open route.
    assert_served(get(gw, "/open/data", 6), "Miss", 6)
    assert hits(upstream) == 4
    for path, token in (("/jwt/data", reader), ("/open/data", None)):
        r = get(gw, path, 7, token, "max-age=0")
        expected_probe = 5 if path == "/jwt/data" else 6
        if strategy == "FAIL_WITH_403":
            assert r.status_code == 403, (path, r.status_code, r.text)
            assert r.content == b'{"message":"Forbidden"}'
            assert "x-cache" not in r.headers
        elif strategy == "SUCCEED_WITH_RESPONSE_HEADER":
            assert_served(r, "Hit", expected_probe)
            assert r.headers["warning"].startswith('199 - "'), r.headers
            assert r.headers["warning"].endswith('"')
        else:
            assert_served(r, "Hit", expected_probe)
            assert "warning" not in r.headers
    assert hits(upstream) == 4  # no unauthorized request reached the upstream

    # requireAuthorizationForCacheControl: false on /free/data: anyone's max-age=0 refreshes.
    assert_served(get(gw, "/free/data", 8), "Miss", 8)
    assert_served(get(gw, "/free/data", 9), "Hit", 8)
    assert_served(get(gw, "/free/data", 10, None, "max-age=0"), "Miss", 10)
    assert_served(get(gw, "/free/data", 11), "Hit", 10)
    assert hits(upstream) == 6


def test_stage_wide_require_authorization_false_lets_anonymous_clients_refresh(gateway_factory, upstream, tmp_path, key):
    gw = gateway_factory(cache_control_config(
        upstream.port, jwks_file(tmp_path, key), strategy="FAIL_WITH_403", stage_require=False))
    assert_served(get(gw, "/open/data", 1), "Miss", 1)
    assert_served(get(gw, "/open/data", 2), "Hit", 1)
    r = get(gw, "/open/data", 3, None, "max-age=0")
    assert_served(r, "Miss", 3)
    assert "warning" not in r.headers
    assert_served(get(gw, "/open/data", 4), "Hit", 3)
    assert hits(upstream) == 2


def test_custom_invalidation_scopes_replace_the_default(gateway_factory, upstream, tmp_path, key):
    gw = gateway_factory(cache_control_config(
        upstream.port, jwks_file(tmp_path, key), strategy="FAIL_WITH_403", scopes=["cache:purge"]))
    purger = key.token(claims(ISSUER, AUDIENCE, scope="cache:purge"))
    default_scope = key.token(claims(ISSUER, AUDIENCE, scope=INVALIDATE))
    assert_served(get(gw, "/jwt/data", 1, purger), "Miss", 1)
    assert get(gw, "/jwt/data", 2, default_scope, "max-age=0").status_code == 403
    assert_served(get(gw, "/jwt/data", 3, purger, "max-age=0"), "Miss", 3)
    assert hits(upstream) == 2


def test_warning_header_is_added_when_an_unauthorized_max_age_0_misses_too(gateway_factory, upstream, tmp_path, key):
    """SUCCEED_WITH_RESPONSE_HEADER ignores the header and says so whether or not the entry exists:
    on an empty cache the request fills it normally and still carries the warning."""
    gw = gateway_factory(cache_control_config(
        upstream.port, jwks_file(tmp_path, key), strategy="SUCCEED_WITH_RESPONSE_HEADER"))
    r = get(gw, "/open/data", 1, None, "max-age=0")
    assert_served(r, "Miss", 1)
    assert r.headers.get("warning", "").startswith('199 - "'), r.headers
    assert_served(get(gw, "/open/data", 2), "Hit", 1)
    assert hits(upstream) == 1
