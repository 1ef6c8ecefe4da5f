"""CORS as HTTP APIs configure it, against the real binary: browser-style preflights sent with
real curl (answered by the gateway with 204, or proxied for an explicit OPTIONS route), the
fields on actual responses (echoed origin, credentials, expose headers, vary), non-matching
origins (no CORS fields at all), the backend's CORS fields replaced, wildcard subdomains, `*`,
gateway error responses, cache hits, and `*` with credentials refused at config load.
"""

import subprocess

import pytest
import requests
import yaml

from helpers import TIMEOUT, api, config, curl, integration

APP = "https://app.example.com"
CORS_FIELDS = ("access-control-allow-origin", "access-control-allow-credentials", "access-control-allow-methods",
               "access-control-allow-headers", "access-control-expose-headers", "access-control-max-age")


def cors_api(cors, stage_extra=None):
    integrations = [
        integration("pass", "http://backend"),
        integration("evil", "http://backend/headers?h=Access-Control-Allow-Origin:evil.example"
                            "&h=Access-Control-Allow-Credentials:false&h=Access-Control-Expose-Headers:x-secret"
                            "&h=X-Other:kept"),
    ]
    routes = [
        {"routeKey": "GET /pets/{id}", "target": "pass"},
        {"routeKey": "PUT /pets/{id}", "target": "pass"},
        {"routeKey": "OPTIONS /explicit", "target": "pass"},
        {"routeKey": "GET /explicit", "target": "pass"},
        {"routeKey": "GET /evil", "target": "evil"},
        {"routeKey": "GET /cached", "target": "pass"},
        {"routeKey": "GET /throttled", "target": "pass"},
    ]
    stage = {"stageName": "$default", "cacheClusterEnabled": True, "cacheCapacityBytes": 1_000_000,
             "routeSettings": {"GET /cached": {"cachingEnabled": True},
                               "GET /throttled": {"throttlingBurstLimit": 1, "throttlingRateLimit": 1}}}
    stage.update(stage_extra or {})
    out = api(integrations=integrations, routes=routes, stages=[stage])
    out["corsConfiguration"] = cors
    return out


STRICT = {
    "allowOrigins": [APP, "https://*.corp.example"],
    "allowMethods": ["GET", "PUT"],
    "allowHeaders": ["content-type", "x-custom"],
    "exposeHeaders": ["x-request-id", "x-cache"],
    "maxAge": 600,
    "allowCredentials": True,
}


@pytest.fixture
def gw(gateway_factory, upstream):
    return gateway_factory(config([upstream.port], apis=[cors_api(STRICT)]))


def head_fields(stderr):
    """(status, [(lower name, value)]) of the response curl -v printed."""
    status, fields = None, []
    for line in stderr.splitlines():
        if line.startswith("< HTTP/"):
            status, fields = int(line.split()[2]), []
        elif line.startswith("< ") and ":" in line:
            name, value = line[2:].split(":", 1)
            fields.append((name.strip().lower(), value.strip()))
    return status, fields


def cors_fields(fields):
    return [(k, v) for k, v in fields if k.startswith("access-control-")]


def preflight(gw, path, origin, method, request_headers=None):
    args = ["-v", "-X", "OPTIONS", "-H", "Origin: " + origin, "-H", "Access-Control-Request-Method: " + method]
    if request_headers:
        args += ["-H", "Access-Control-Request-Headers: " + request_headers]
    status, body, stderr = curl(*args, gw.url + path)
    head_status, fields = head_fields(stderr)
    assert head_status == status, stderr
    return status, body, fields


# -- preflight ----------------------------------------------------------------------------


def test_browser_preflight_with_curl_is_answered_by_the_gateway(gw, upstream):
    status, body, fields = preflight(gw, "/pets/7", APP, "PUT", "content-type")
    assert status == 204
    assert body == b""
    assert cors_fields(fields) == [
        ("access-control-allow-origin", APP),
        ("access-control-allow-credentials", "true"),
        ("access-control-allow-methods", "GET,PUT"),
        ("access-control-allow-headers", "content-type,x-custom"),
        ("access-control-max-age", "600"),
    ]
    assert ("vary", "origin") in fields
    assert any(k == "apigw-requestid" for k, _ in fields)
    assert upstream.stats()["requests"] == 0  # never proxied

    # Header names are matched case-insensitively, and a list of allowed ones passes.
    status, _, fields = preflight(gw, "/pets/7", APP, "GET", "Content-Type, X-Custom")
    assert status == 204
    assert dict(cors_fields(fields))["access-control-allow-origin"] == APP


@pytest.mark.parametrize("origin,method,headers", [
    ("https://evil.example", "PUT", "content-type"),        # origin not allowed
    ("https://app.example.com.evil.example", "GET", None),  # a suffix trick
    ("http://app.example.com", "GET", None),               # other scheme
    (APP, "DELETE", None),                                  # method not allowed
    (APP, "GET", "content-type, x-forbidden"),              # a header not allowed
])
def test_refused_preflight_gets_204_without_any_cors_field(gw, upstream, origin, method, headers):
    status, body, fields = preflight(gw, "/pets/7", origin, method, headers)
    assert status == 204
    assert body == b""
    assert cors_fields(fields) == []
    assert upstream.stats()["requests"] == 0


def test_preflight_for_a_path_no_route_serves_is_answered_too(gw, upstream):
    status, _, fields = preflight(gw, "/no/such/route", APP, "GET")
    assert status == 204
    assert dict(cors_fields(fields))["access-control-allow-origin"] == APP
    assert upstream.stats()["requests"] == 0
    # An OPTIONS without Access-Control-Request-Method is no preflight: an ordinary 404.
    r = requests.options(gw.url + "/no/such/route", headers={"Origin": APP}, timeout=TIMEOUT)
    assert r.status_code == 404
    assert r.content == b'{"message":"Not Found"}'


def test_explicit_options_route_is_proxied_not_answered(gw, upstream):
    status, body, fields = preflight(gw, "/explicit", APP, "PUT", "content-type")
    assert status == 200
    import json
    echo = json.loads(body)
    assert echo["method"] == "OPTIONS" and echo["path"] == "/explicit"
    assert upstream.stats()["requests"] == 1
    # The proxied answer carries the response CORS fields, not the preflight ones.
    got = dict(cors_fields(fields))
    assert got["access-control-allow-origin"] == APP
    assert "access-control-allow-methods" not in got


# -- actual responses ---------------------------------------------------------------------


def test_matching_origin_gets_cors_fields_on_the_response(gw, upstream):
    r = requests.get(gw.url + "/pets/1", headers={"Origin": APP}, timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == APP
    assert r.headers["access-control-allow-credentials"] == "true"
    assert r.headers["access-control-expose-headers"] == "x-request-id,x-cache"
    assert r.headers["vary"].lower() == "origin"
    # Preflight-only fields are not on actual responses.
    assert "access-control-allow-methods" not in r.headers
    assert "access-control-max-age" not in r.headers


def test_non_matching_or_missing_origin_gets_no_cors_fields(gw, upstream):
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {}):
        r = requests.get(gw.url + "/pets/1", headers=headers, timeout=TIMEOUT)
        assert r.status_code == 200
        assert [k for k in r.headers if k.lower().startswith("access-control-")] == [], (headers, r.headers)


def test_backend_cors_fields_are_replaced_by_the_gateway(gw, upstream):
    status, body, stderr = curl("-v", "-H", "Origin: " + APP, gw.url + "/evil")
    _, fields = head_fields(stderr)
    assert status == 200 and body == b'{"upstream": "up0"}'
    assert cors_fields(fields) == [
        ("access-control-allow-origin", APP),
        ("access-control-allow-credentials", "true"),
        ("access-control-expose-headers", "x-request-id,x-cache"),
    ]
    assert ("x-other", "kept") in fields
    # A non-matching origin: the backend's CORS fields are dropped all the same.
    status, _, stderr = curl("-v", "-H", "Origin: https://evil.example", gw.url + "/evil")
    _, fields = head_fields(stderr)
    assert status == 200
    assert cors_fields(fields) == []
    assert ("x-other", "kept") in fields


def test_wildcard_subdomain_origin(gw, upstream):
    for origin in ("https://a.corp.example", "https://deep.a.corp.example", "https://A.Corp.Example"):
        r = requests.get(gw.url + "/pets/1", headers={"Origin": origin}, timeout=TIMEOUT)
        assert r.headers.get("access-control-allow-origin") == origin, (origin, r.headers)
        status, _, fields = preflight(gw, "/pets/1", origin, "PUT")
        assert status == 204 and dict(cors_fields(fields)).get("access-control-allow-origin") == origin
    for origin in ("https://corp.example", "http://a.corp.example", "https://a.corp.example:8443",
                   "https://a.corp.example.evil"):
        r = requests.get(gw.url + "/pets/1", headers={"Origin": origin}, timeout=TIMEOUT)
        assert "access-control-allow-origin" not in r.headers, (origin, r.headers)


def test_gateway_429_carries_cors_fields(gw, upstream):
    requests.get(gw.url + "/throttled", timeout=TIMEOUT)
    r = requests.get(gw.url + "/throttled", headers={"Origin": APP}, timeout=TIMEOUT)
    assert r.status_code == 429
    assert r.content == b'{"message":"Too Many Requests"}'
    assert r.headers["access-control-allow-origin"] == APP


def test_gateway_404_for_a_path_no_route_serves_carries_cors_fields(gw, upstream):
    # Like every other gateway error response (401/403/429...), the 404 of an API with CORS
    # carries the CORS fields for a matching origin, so the browser can read the error.
    r = requests.get(gw.url + "/nothing/here", headers={"Origin": APP}, timeout=TIMEOUT)
    assert r.status_code == 404
    assert r.content == b'{"message":"Not Found"}'
    assert r.headers.get("access-control-allow-origin") == APP, r.headers
    assert r.headers.get("access-control-allow-credentials") == "true"
    assert r.headers.get("access-control-expose-headers") == "x-request-id,x-cache"


def test_cache_hits_get_the_cors_fields_of_their_own_request(gw, upstream):
    first = requests.get(gw.url + "/cached", headers={"Origin": APP}, timeout=TIMEOUT)
    assert first.headers["x-cache"] == "Miss"
    assert first.headers["access-control-allow-origin"] == APP
    other = requests.get(gw.url + "/cached", headers={"Origin": "https://x.corp.example"}, timeout=TIMEOUT)
    assert other.headers["x-cache"] == "Hit"
    assert other.headers["access-control-allow-origin"] == "https://x.corp.example"
    assert list(other.headers).count("access-control-allow-origin") == 1
    bare = requests.get(gw.url + "/cached", timeout=TIMEOUT)
    assert bare.headers["x-cache"] == "Hit"
    assert [k for k in bare.headers if k.lower().startswith("access-control-")] == []
    assert upstream.stats()["requests"] == 1


def test_star_origin_without_credentials(gateway_factory, upstream):
    cors = {"allowOrigins": ["*"], "allowMethods": ["*"], "allowHeaders": ["*"]}
    gw = gateway_factory(config([upstream.port], apis=[cors_api(cors)]))
    r = requests.get(gw.url + "/pets/1", headers={"Origin": "https://anyone.example"}, timeout=TIMEOUT)
    assert r.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in r.headers
    status, _, fields = preflight(gw, "/pets/1", "https://anyone.example", "DELETE", "x-whatever")
    got = dict(cors_fields(fields))
    assert status == 204
    assert got["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in got


def test_star_origin_with_credentials_is_refused_at_config_load(turnpike_bin, upstream, tmp_path):
    cors = {"allowOrigins": ["*"], "allowMethods": ["GET"], "allowCredentials": True}
    cfg = config([upstream.port], apis=[cors_api(cors)])
    cfg["listeners"] = [{"name": "public", "host": "127.0.0.1", "port": 1, "defaultApi": "main"}]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    for command in ("validate", "serve"):
        out = subprocess.run([turnpike_bin, command] + ([str(path)] if command == "validate" else ["--config", str(path)]), capture_output=True, timeout=TIMEOUT)
        assert out.returncode != 0, command
        message = out.stderr.decode(errors="replace") + out.stdout.decode(errors="replace")
        assert "corsConfiguration.allowCredentials" in message and "*" in message, (command, message)
