"""AWS_PROXY integrations end to end: real awslambdaric processes running Python handlers
behind the real binary, payload formats 1.0 and 2.0, errors, timeouts and throttling."""

import base64
import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from helpers import TIMEOUT, api, config

FUNCTIONS_DIR = str(Path(__file__).parent / "lambda_functions")
INTERNAL = b'{"message":"Internal server error"}'

pytest.importorskip("awslambdaric")


def function(name, handler, **extra):
    f = {"name": name, "command": [sys.executable, "-m", "awslambdaric", "handlers." + handler],
         "workingDirectory": FUNCTIONS_DIR, "timeoutSeconds": 10, "reservedConcurrency": 2}
    f.update(extra)
    return f


def lambda_integration(name, function_name, version="2.0"):
    i = {"name": name, "integrationType": "AWS_PROXY",
         "integrationUri": "arn:aws:lambda:us-east-1:000000000000:function:%s" % function_name}
    if version:
        i["payloadFormatVersion"] = version
    return i


def lambda_config(functions, routes, integrations, stages=None):
    cfg = config([], groups=[], apis=[api(integrations=integrations, routes=routes,
                                          stages=stages or [{"stageName": "$default"}, {"stageName": "prod", "stageVariables": {"color": "blue"}}])])
    cfg["functions"] = functions
    return cfg


@pytest.fixture
def gw(gateway_factory):
    functions = [
        function("echo", "echo"), function("users", "users"), function("boom", "boom"),
        function("crash", "crash", reservedConcurrency=1),
        function("reverse", "reverse"), function("bare", "bare"), function("malformed", "malformed"),
        function("cookies", "cookies"), function("multi", "multi"),
    ]
    integrations = [
        lambda_integration("echo2", "echo"), lambda_integration("echo1", "echo", "1.0"),
        lambda_integration("users", "users"), lambda_integration("boom", "boom"),
        lambda_integration("crash", "crash"), lambda_integration("reverse", "reverse"),
        lambda_integration("bare", "bare"), lambda_integration("malformed", "malformed"),
        lambda_integration("malformed1", "malformed", "1.0"), lambda_integration("bare1", "bare", "1.0"),
        lambda_integration("cookies", "cookies"), lambda_integration("multi", "multi", "1.0"),
    ]
    routes = [
        {"routeKey": "ANY /v2/{proxy+}", "target": "echo2"},
        {"routeKey": "ANY /v1/items/{itemId}", "target": "echo1"},
        {"routeKey": "GET /users/{userId}", "target": "users"},
        {"routeKey": "GET /boom", "target": "boom"},
        {"routeKey": "GET /crash", "target": "crash"},
        {"routeKey": "POST /reverse", "target": "reverse"},
        {"routeKey": "GET /bare", "target": "bare"},
        {"routeKey": "GET /bare1", "target": "bare1"},
        {"routeKey": "GET /malformed", "target": "malformed"},
        {"routeKey": "GET /malformed1", "target": "malformed1"},
        {"routeKey": "GET /cookies", "target": "cookies"},
        {"routeKey": "GET /multi", "target": "multi"},
    ]
    return gateway_factory(lambda_config(functions, routes, integrations), workers=2)


def test_payload_2_0_event_carries_the_request_as_aws_builds_it(gw):
    r = requests.post(gw.url + "/prod/v2/a/b?x=1&x=2&y=%20z", data=b'{"k": 1}',
                      headers={"Content-Type": "application/json", "X-Multi": "one", "Cookie": "c1=v1; c2=v2",
                               "User-Agent": "pytest-agent"}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.headers["x-handler"] == "echo"
    assert r.headers["apigw-requestid"]
    out = r.json()
    event = out["event"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "ANY /v2/{proxy+}"
    assert event["rawPath"] == "/prod/v2/a/b"
    assert event["rawQueryString"] == "x=1&x=2&y=%20z"
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-multi"] == "one"
    assert event["headers"]["content-type"] == "application/json"
    assert event["queryStringParameters"] == {"x": "1,2", "y": " z"}
    assert event["pathParameters"] == {"proxy": "a/b"}
    assert event["stageVariables"] == {"color": "blue"}
    assert event["body"] == '{"k": 1}'
    assert event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["apiId"] == "itapi01"
    assert ctx["stage"] == "prod"
    assert ctx["routeKey"] == "ANY /v2/{proxy+}"
    assert ctx["requestId"] == r.headers["apigw-requestid"]
    assert ctx["http"] == {"method": "POST", "path": "/prod/v2/a/b", "protocol": "HTTP/1.1",
                           "sourceIp": "127.0.0.1", "userAgent": "pytest-agent"}
    assert abs(ctx["timeEpoch"] / 1000 - time.time()) < 30
    assert "authorizer" not in ctx
    assert out["functionName"] == "echo"
    assert 0 < out["remainingMs"] <= 10000


def test_payload_2_0_omits_absent_fields(gw):
    r = requests.get(gw.url + "/v2/x", timeout=TIMEOUT)
    event = r.json()["event"]
    for absent in ("body", "queryStringParameters", "cookies", "stageVariables"):
        assert absent not in event
    assert event["rawQueryString"] == ""


def test_payload_1_0_event_has_multi_value_forms_and_nulls(gw):
    r = requests.get(gw.url + "/v1/items/42?tag=a&tag=b", headers={"X-Dup": "1"}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    event = r.json()["event"]
    assert event["version"] == "1.0"
    assert event["resource"] == "/v1/items/{itemId}"
    assert event["path"] == "/v1/items/42"
    assert event["httpMethod"] == "GET"
    assert event["queryStringParameters"] == {"tag": "b"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"]}
    assert event["headers"]["x-dup"] == "1"
    assert event["multiValueHeaders"]["x-dup"] == ["1"]
    assert event["pathParameters"] == {"itemId": "42"}
    assert event["stageVariables"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["httpMethod"] == "GET" and ctx["resourcePath"] == "/v1/items/{itemId}"
    assert ctx["identity"]["sourceIp"] == "127.0.0.1"
    assert ctx["identity"]["caller"] is None
    assert ctx["authorizer"] == {"claims": None, "scopes": None}
    assert ctx["requestTimeEpoch"] > 0 and ctx["requestTime"].endswith("+0000")


def test_user_handler_status_headers_and_body_pass_through(gw):
    ok = requests.get(gw.url + "/users/7", timeout=TIMEOUT)
    assert ok.status_code == 200 and ok.json() == {"id": "7", "name": "Ada"}
    missing = requests.get(gw.url + "/users/8", timeout=TIMEOUT)
    assert missing.status_code == 404
    assert missing.json() == {"message": "no user 8"}
    assert missing.headers["x-missing"] == "8"


def test_binary_body_round_trips_base64(gw):
    data = bytes(range(256)) * 4
    r = requests.post(gw.url + "/reverse", data=data, headers={"Content-Type": "application/octet-stream"},
                      timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.content == data[::-1]
    assert r.headers["content-type"] == "application/octet-stream"


def test_handler_that_raises_answers_502(gw):
    r = requests.get(gw.url + "/boom", timeout=TIMEOUT)
    assert r.status_code == 502
    assert r.content == INTERNAL
    assert "boom" in gw.stderr()


def test_malformed_response_answers_502_and_logs_why(gw):
    for path in ("/malformed", "/malformed1", "/bare1"):
        r = requests.get(gw.url + path, timeout=TIMEOUT)
        assert r.status_code == 502, path
        assert r.content == INTERNAL
    assert "Malformed Lambda proxy response" in gw.stderr()


def test_payload_2_0_infers_a_response_for_bare_json(gw):
    r = requests.get(gw.url + "/bare", timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"hello": "world", "n": 1}


def test_cookies_become_set_cookie_fields(gw):
    r = requests.get(gw.url + "/cookies", timeout=TIMEOUT)
    assert r.status_code == 201
    assert r.raw.headers.getlist("set-cookie") == ["a=1", "b=2; Path=/; HttpOnly"]
    assert r.text == "made"


def test_multi_value_headers_are_sent_as_repeated_fields(gw):
    r = requests.get(gw.url + "/multi", timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.raw.headers.getlist("x-multi") == ["a", "b"]
    assert r.headers["x-single"] == "s"


def test_crashing_process_answers_502_and_is_replaced(gw):
    r = requests.get(gw.url + "/crash", timeout=TIMEOUT)
    assert r.status_code == 502
    assert r.content == INTERNAL
    # The next request gets a fresh process (and the same fate), never a hang.
    r = requests.get(gw.url + "/crash", timeout=TIMEOUT)
    assert r.status_code == 502


def test_warm_process_is_reused(gw):
    pids = {requests.get(gw.url + "/v2/warm", timeout=TIMEOUT).json()["pid"] for _ in range(5)}
    assert len(pids) == 1


@pytest.fixture
def slow_gw(gateway_factory):
    functions = [function("slow", "slow", timeoutSeconds=1, reservedConcurrency=1)]
    return gateway_factory(lambda_config(
        functions, [{"routeKey": "GET /slow", "target": "slow"}], [lambda_integration("slow", "slow")]), workers=2)


def test_timeout_answers_504_kills_the_process_and_the_pool_recovers(slow_gw):
    first = requests.get(slow_gw.url + "/slow?s=0", timeout=TIMEOUT)
    assert first.status_code == 200
    old_pid = first.text.split()[-1]
    t0 = time.time()
    r = requests.get(slow_gw.url + "/slow?s=5", timeout=TIMEOUT)
    assert r.status_code == 504
    assert r.content == b'{"message":"Service Unavailable"}'
    assert time.time() - t0 < 4
    after = requests.get(slow_gw.url + "/slow?s=0", timeout=TIMEOUT)
    assert after.status_code == 200
    assert after.text.split()[-1] != old_pid
    with pytest.raises(ProcessLookupError):
        os.kill(int(old_pid), 0)


def test_reserved_concurrency_exhausted_answers_429(slow_gw):
    assert requests.get(slow_gw.url + "/slow?s=0", timeout=TIMEOUT).status_code == 200
    results = []
    t = threading.Thread(target=lambda: results.append(requests.get(slow_gw.url + "/slow?s=0.8", timeout=TIMEOUT)))
    t.start()
    time.sleep(0.3)
    r = requests.get(slow_gw.url + "/slow?s=0", timeout=TIMEOUT)
    t.join()
    assert r.status_code == 429
    assert r.content == b'{"message":"Too Many Requests"}'
    assert results[0].status_code == 200
    assert requests.get(slow_gw.url + "/slow?s=0", timeout=TIMEOUT).status_code == 200


@pytest.fixture
def small_gw(gateway_factory):
    cfg = lambda_config([function("echo", "echo")], [{"routeKey": "ANY /echo", "target": "echo"}],
                        [lambda_integration("echo", "echo")])
    cfg["settings"]["maxRequestBodyBytes"] = 1000
    cfg["settings"]["headerTimeoutSeconds"] = 1
    cfg["settings"]["accessLog"] = {"enabled": True, "destination": "stdout",
                                    "format": "$context.status $context.integrationLatency"}
    return gateway_factory(cfg, workers=1)


def test_body_over_the_payload_limit_answers_413_without_invoking(small_gw):
    r = requests.post(small_gw.url + "/echo", data=b"x" * 1001, timeout=TIMEOUT)
    assert r.status_code == 413
    assert r.content == b'{"message":"Request Entity Too Large"}'
    chunked = requests.post(small_gw.url + "/echo", data=iter([b"x" * 600, b"y" * 600]), timeout=TIMEOUT)
    assert chunked.status_code == 413


def test_chunked_body_reaches_the_event_whole(small_gw):
    r = requests.post(small_gw.url + "/echo", data=iter([b"abc", b"def"]), headers={"Content-Type": "text/plain"},
                      timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.json()["event"]["body"] == "abcdef"


def test_a_body_that_never_completes_closes_the_connection(small_gw):
    import socket
    s = socket.create_connection(("127.0.0.1", small_gw.port), timeout=TIMEOUT)
    s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial")
    t0 = time.time()
    assert s.recv(100) == b""
    assert time.time() - t0 < 5
    s.close()


def test_access_log_carries_the_function_latency(small_gw):
    assert requests.get(small_gw.url + "/echo", timeout=TIMEOUT).status_code == 200
    time.sleep(0.5)
    lines = [l for l in small_gw.stdout().splitlines() if l.startswith("200 ")]
    assert lines and lines[-1].split()[1].isdigit()


def test_reload_adds_and_changes_functions(gateway_factory):
    first = function("greet", "greeting", environment={"GREETING": "hello"})
    cfg = lambda_config([first], [{"routeKey": "GET /greet", "target": "greet"}], [lambda_integration("greet", "greet")])
    gw = gateway_factory(cfg, workers=1)
    r = requests.get(gw.url + "/greet", timeout=TIMEOUT)
    assert r.text.split()[0] == "hello"
    old_pid = int(r.text.split()[1])
    changed = function("greet", "greeting", environment={"GREETING": "bonjour"})
    added = function("echo", "echo")
    cfg = lambda_config([changed, added],
                        [{"routeKey": "GET /greet", "target": "greet"}, {"routeKey": "GET /echo", "target": "echo"}],
                        [lambda_integration("greet", "greet"), lambda_integration("echo", "echo")])
    gw.write_config(cfg)
    assert gw.reload_admin().status_code == 200
    r = requests.get(gw.url + "/greet", timeout=TIMEOUT)
    assert r.text.split()[0] == "bonjour"
    assert requests.get(gw.url + "/echo", timeout=TIMEOUT).status_code == 200
    # The replaced pool's idle process is stopped.
    deadline = time.time() + 5
    while time.time() < deadline:
        try:
            os.kill(old_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the replaced function's process is still running")


def test_handler_that_cannot_be_loaded_answers_502_with_the_init_error_logged(gateway_factory):
    broken = function("broken", "no_such_handler")
    cfg = lambda_config([broken], [{"routeKey": "GET /broken", "target": "broken"}],
                        [lambda_integration("broken", "broken")])
    gw = gateway_factory(cfg, workers=1)
    for _ in range(2):
        r = requests.get(gw.url + "/broken", timeout=TIMEOUT)
        assert r.status_code == 502
        assert r.content == INTERNAL
    assert "init error" in gw.stderr()


def test_rest_binary_media_types_decide_base64_both_ways(gateway_factory):
    rest = api(integrations=[lambda_integration("reverse", "reverse", version=None)],
               routes=[{"routeKey": "POST /reverse", "target": "reverse"}], stages=[{"stageName": "prod"}])
    rest["protocolType"] = "REST"
    rest["binaryMediaTypes"] = ["application/octet-stream"]
    cfg = config([], groups=[], apis=[rest])
    cfg["functions"] = [function("reverse", "reverse")]
    gw = gateway_factory(cfg, workers=1)
    data = bytes([0, 255, 1, 254]) * 10
    binary = {"Content-Type": "application/octet-stream", "Accept": "application/octet-stream"}
    r = requests.post(gw.url + "/prod/reverse", data=data, headers=binary, timeout=TIMEOUT)
    assert r.status_code == 200 and r.content == data[::-1]
    # Without a binary Accept type, REST hands the function's base64 text through as is.
    r = requests.post(gw.url + "/prod/reverse", data=data,
                      headers={"Content-Type": "application/octet-stream", "Accept": "application/json"}, timeout=TIMEOUT)
    assert base64.b64decode(r.content) == data[::-1]
    # A text type not listed reaches the function as text.
    r = requests.post(gw.url + "/prod/reverse", data=b"abc", headers={"Content-Type": "text/plain", **{"Accept": "*/*"}},
                      timeout=TIMEOUT)
    assert base64.b64decode(r.content) == b"cba"
