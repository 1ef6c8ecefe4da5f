"""Remote functions through the Lambda Invoke API, signed with SigV4."""

import pytest
import requests

from helpers import TIMEOUT, api, config
from invoke_api import InvokeAPI
from test_lambda import INTERNAL, lambda_integration

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


@pytest.fixture
def invoke_api():
    server = InvokeAPI(secret=SECRET, region="eu-west-1").start()
    yield server
    server.stop()


@pytest.fixture
def gw(gateway_factory, invoke_api):
    def remote(name, remote_name):
        return {"name": name, "invokeEndpoint": "http://127.0.0.1:%d" % invoke_api.port, "functionName": remote_name,
                "region": "eu-west-1", "timeoutSeconds": 5, "reservedConcurrency": 2,
                "credentials": {"accessKeyId": "AKIDEXAMPLE", "secretAccessKey": SECRET}}
    cfg = config([], groups=[], apis=[api(
        integrations=[lambda_integration("echo", "r-echo"), lambda_integration("users", "r-users", "1.0"),
                      lambda_integration("boom", "r-boom"), lambda_integration("missing", "r-missing")],
        routes=[{"routeKey": "POST /echo", "target": "echo"}, {"routeKey": "GET /users/{userId}", "target": "users"},
                {"routeKey": "GET /boom", "target": "boom"}, {"routeKey": "GET /missing", "target": "missing"}])])
    cfg["functions"] = [remote("r-echo", "echo"), remote("r-users", "users"), remote("r-boom", "boom"),
                        remote("r-missing", "nosuchfunction")]
    return gateway_factory(cfg, workers=2)


def test_remote_function_is_invoked_with_a_signed_request(gw, invoke_api):
    r = requests.post(gw.url + "/echo", data=b"hi", headers={"Content-Type": "text/plain"}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.json()["event"]["body"] == "hi"
    sent = invoke_api.requests[-1]
    assert sent["path"] == "/2015-03-31/functions/echo/invocations"
    assert sent["headers"]["authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/%s/eu-west-1/lambda/aws4_request" % sent["headers"]["x-amz-date"][:8])
    # Keep-alive: later invocations reuse the signed connection path.
    for _ in range(3):
        assert requests.get(gw.url + "/users/7", timeout=TIMEOUT).json() == {"id": "7", "name": "Ada"}


def test_remote_function_error_answers_502(gw):
    r = requests.get(gw.url + "/boom", timeout=TIMEOUT)
    assert r.status_code == 502
    assert r.content == INTERNAL
    assert "boom" in gw.stderr()


def test_unknown_remote_function_answers_502(gw):
    r = requests.get(gw.url + "/missing", timeout=TIMEOUT)
    assert r.status_code == 502
    assert "404" in gw.stderr()


def test_bad_signature_is_refused_by_the_endpoint(gateway_factory):
    server = InvokeAPI(secret="another-secret").start()
    try:
        cfg = config([], groups=[], apis=[api(integrations=[lambda_integration("echo", "r-echo")],
                                              routes=[{"routeKey": "GET /echo", "target": "echo"}])])
        cfg["functions"] = [{"name": "r-echo", "invokeEndpoint": "http://127.0.0.1:%d" % server.port,
                             "functionName": "echo", "credentials": {"accessKeyId": "AKID", "secretAccessKey": "wrong"}}]
        gw = gateway_factory(cfg, workers=1)
        r = requests.get(gw.url + "/echo", timeout=TIMEOUT)
        assert r.status_code == 502
        assert "403" in gw.stderr()
    finally:
        server.stop()
