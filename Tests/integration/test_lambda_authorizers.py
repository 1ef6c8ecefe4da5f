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


ACME = "acme-key-0123456789abcdef0123"


@pytest.fixture
def rest_gw(gateway_factory, auth_log):
    rest = api(name="main", api_id="restapi1",
               integrations=[lambda_integration("echo", "echo", version=None)],
               routes=[
                   {"routeKey": "GET /users/{userId}", "target": "echo", "authorizationType": "CUSTOM",
                    "authorizer": "token"},
                   {"routeKey": "POST /users", "target": "echo", "authorizationType": "CUSTOM",
                    "authorizer": "request", "apiKeyRequired": True},
                   {"routeKey": "GET /open", "target": "echo"},
               ],
               stages=[{"stageName": "prod"}])
    rest["protocolType"] = "REST"
    rest["apiKeySource"] = "AUTHORIZER"
    cfg = config([], groups=[], apis=[rest],
                 apiKeys=[{"id": "keyacme", "name": "acme", "value": ACME}],
                 usagePlans=[{"id": "plan1", "name": "p", "apiStages": [{"api": "main", "stage": "prod"}],
                              "apiKeys": ["acme"]}])
    cfg["functions"] = authorizer_functions(auth_log)
    cfg["authorizers"] = [
        {"name": "token", "authorizerType": "TOKEN", "authorizerUri": "function:policy-auth",
         "identitySource": "method.request.header.Authorization", "authorizerResultTtlInSeconds": 300},
        {"name": "request", "authorizerType": "REQUEST", "authorizerUri": "function:policy-auth",
         "identitySource": "method.request.header.Authorization", "authorizerResultTtlInSeconds": 0},
    ]
    return gateway_factory(cfg, workers=2)


def test_rest_unknown_resource_answers_missing_authentication_token(rest_gw):
    r = requests.get(rest_gw.url + "/prod/nowhere", timeout=TIMEOUT)
    assert r.status_code == 403
    assert r.content == b'{"message":"Missing Authentication Token"}'
    assert r.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert r.headers["x-amzn-RequestId"]


def test_rest_proxy_event_is_payload_1_0_with_rest_fields(rest_gw):
    r = requests.get(rest_gw.url + "/prod/open?a=1", headers={"X-Mixed-Case": "v"}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.headers["x-amzn-RequestId"]
    event = r.json()["event"]
    assert "version" not in event
    assert event["resource"] == "/open"
    assert event["path"] == "/open"
    assert event["headers"]["X-Mixed-Case"] == "v"
    assert event["requestContext"]["stage"] == "prod"
    assert event["requestContext"]["path"] == "/prod/open"
    assert event["requestContext"]["requestId"] == r.headers["x-amzn-RequestId"]


def test_rest_token_authorizer_allows_with_context_and_is_cached(rest_gw, auth_log):
    for _ in range(4):
        r = get(rest_gw, "/prod/users/7", "allow-1")
        assert r.status_code == 200, r.text
    authorizer = r.json()["event"]["requestContext"]["authorizer"]
    assert authorizer["principalId"] == "user-1"
    assert authorizer["tier"] == "premium"
    assert authorizer["n"] == "7"  # REST stringifies context values
    events = calls(auth_log)
    assert len(events) == 1
    assert events[0] == {"type": "TOKEN", "authorizationToken": "allow-1",
                         "methodArn": "arn:aws:execute-api:us-east-1:000000000000:restapi1/prod/GET/users/7"}


def test_rest_token_authorizer_deny_and_unauthorized(rest_gw):
    denied = get(rest_gw, "/prod/users/7", "deny")
    assert denied.status_code == 403
    assert denied.content == b'{"message":"User is not authorized to access this resource with an explicit deny"}'
    raised = get(rest_gw, "/prod/users/7", "raise")
    assert raised.status_code == 401
    assert raised.content == b'{"message":"Unauthorized"}'
    assert raised.headers["x-amzn-ErrorType"] == "UnauthorizedException"
    missing = get(rest_gw, "/prod/users/7")
    assert missing.status_code == 401


def test_rest_request_authorizer_supplies_the_api_key_for_usage_plans(rest_gw, auth_log):
    r = requests.post(rest_gw.url + "/prod/users", data=b"{}", headers={"Authorization": "allow-2"}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    event = calls(auth_log)[-1]
    assert event["type"] == "REQUEST"
    assert event["headers"]["Authorization"] == "allow-2"
    denied = requests.post(rest_gw.url + "/prod/users", data=b"{}", headers={"Authorization": "deny"}, timeout=TIMEOUT)
    assert denied.status_code == 403


def test_authorizer_context_maps_onto_an_http_proxy_request(gateway_factory, upstream, auth_log):
    from helpers import header_values, integration
    cfg = config([upstream.port], apis=[api(
        integrations=[integration("pass", "http://backend/echo", requestParameters={
            "overwrite:header.x-tier": "$context.authorizer.tier",
            "overwrite:header.x-principal": "$context.authorizer.principalId"})],
        routes=[{"routeKey": "GET /mapped", "target": "pass", "authorizationType": "CUSTOM", "authorizer": "policy"}])])
    cfg["functions"] = authorizer_functions(auth_log)
    cfg["authorizers"] = [{"name": "policy", "authorizerType": "REQUEST", "authorizerUri": "function:policy-auth",
                           "authorizerPayloadFormatVersion": "1.0", "identitySource": ["$request.header.Authorization"]}]
    gw = gateway_factory(cfg, workers=1)
    r = get(gw, "/mapped", "allow")
    assert r.status_code == 200, r.text
    echo = r.json()
    assert header_values(echo, "x-tier") == ["premium"]
    assert header_values(echo, "x-principal") == ["user-1"]
    assert get(gw, "/mapped", "deny").status_code == 403
