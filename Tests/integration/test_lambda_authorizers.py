"""Lambda authorizers end to end: real awslambdaric processes as REQUEST (HTTP API payload
1.0/2.0) and TOKEN/REQUEST (REST) authorizers in front of a Lambda integration."""

import json
import sys

import pytest
import requests

from helpers import TIMEOUT, api, config
from test_lambda import FUNCTIONS_DIR, function, lambda_integration

pytest.importorskip("awslambdaric")


def calls(path):
    try:
        return [json.loads(line) for line in open(path)]
    except FileNotFoundError:
        return []


@pytest.fixture
def auth_log(tmp_path):
    return str(tmp_path / "auth.log")


def authorizer_functions(auth_log):
    env = {"AUTH_LOG": auth_log}
    return [function("echo", "echo"),
            function("simple-auth", "simple_authorizer", environment=env),
            function("policy-auth", "policy_authorizer", environment=env)]


@pytest.fixture
def http_gw(gateway_factory, auth_log):
    cfg = config([], groups=[], apis=[api(
        integrations=[lambda_integration("echo", "echo")],
        routes=[
            {"routeKey": "GET /simple", "target": "echo", "authorizationType": "CUSTOM", "authorizer": "simple"},
            {"routeKey": "GET /policy", "target": "echo", "authorizationType": "CUSTOM", "authorizer": "policy"},
            {"routeKey": "GET /nocache", "target": "echo", "authorizationType": "CUSTOM", "authorizer": "nocache"},
        ])])
    cfg["functions"] = authorizer_functions(auth_log)
    cfg["authorizers"] = [
        {"name": "simple", "authorizerType": "REQUEST", "authorizerUri": "function:simple-auth",
         "authorizerPayloadFormatVersion": "2.0", "enableSimpleResponses": True,
         "identitySource": ["$request.header.Authorization"], "authorizerResultTtlInSeconds": 300},
        {"name": "policy", "authorizerType": "REQUEST", "authorizerUri": "function:policy-auth",
         "authorizerPayloadFormatVersion": "1.0", "identitySource": ["$request.header.Authorization"]},
        {"name": "nocache", "authorizerType": "REQUEST", "authorizerUri": "function:simple-auth",
         "authorizerPayloadFormatVersion": "2.0", "enableSimpleResponses": True,
         "identitySource": ["$request.header.Authorization"], "authorizerResultTtlInSeconds": 0},
    ]
    return gateway_factory(cfg, workers=2)


def get(gw, path, token=None):
    headers = {"Authorization": token} if token is not None else {}
    return requests.get(gw.url + path, headers=headers, timeout=TIMEOUT)


def test_http_simple_authorizer_allows_and_its_context_reaches_the_function(http_gw, auth_log):
    r = get(http_gw, "/simple", "allow")
    assert r.status_code == 200, r.text
    ctx = r.json()["event"]["requestContext"]
    assert ctx["authorizer"] == {"lambda": {"tier": "premium", "n": 7}}
    event = calls(auth_log)[0]
    assert event["version"] == "2.0" and event["type"] == "REQUEST"
    assert event["identitySource"] == ["allow"]
    assert event["routeArn"].endswith("/$default/GET/simple")


def test_http_simple_authorizer_denies_with_403(http_gw):
    r = get(http_gw, "/simple", "deny")
    assert r.status_code == 403
    assert r.content == b'{"message":"Forbidden"}'


def test_authorizer_raising_unauthorized_answers_401(http_gw):
    r = get(http_gw, "/simple", "raise")
    assert r.status_code == 401
    assert r.content == b'{"message":"Unauthorized"}'


def test_authorizer_failing_otherwise_answers_500(http_gw):
    r = get(http_gw, "/simple", "broken")
    assert r.status_code == 500
    assert r.content == b'{"message":"Internal Server Error"}'


def test_missing_identity_source_answers_401_without_invoking(http_gw, auth_log):
    r = get(http_gw, "/simple")
    assert r.status_code == 401
    assert calls(auth_log) == []


def test_authorizer_result_is_cached_by_identity_source(http_gw, auth_log):
    for _ in range(5):
        assert get(http_gw, "/simple", "allow").status_code == 200
    for _ in range(3):
        assert get(http_gw, "/simple", "deny").status_code == 403
    assert len(calls(auth_log)) == 2


def test_authorizer_without_cache_is_invoked_every_time(http_gw, auth_log):
    for _ in range(3):
        assert get(http_gw, "/nocache", "allow").status_code == 200
    assert len(calls(auth_log)) == 3


def test_http_policy_authorizer_payload_1_0(http_gw, auth_log):
    r = get(http_gw, "/policy", "allow")
    assert r.status_code == 200, r.text
    authorizer = r.json()["event"]["requestContext"]["authorizer"]
    assert authorizer["lambda"] == {"tier": "premium", "n": 7}
    denied = get(http_gw, "/policy", "deny")
    assert denied.status_code == 403
    assert denied.content == b'{"message":"Forbidden"}'
    assert calls(auth_log)[0]["version"] == "1.0"
