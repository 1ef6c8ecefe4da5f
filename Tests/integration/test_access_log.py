"""Access log lines: API Gateway's `$context` JSON by default, a custom format, each destination."""

import json
import re

import requests

from helpers import TIMEOUT, api, config, integration, wait_until

FIELDS = ["requestId", "ip", "requestTime", "httpMethod", "routeKey", "status", "protocol",
          "responseLength", "integrationLatency", "responseLatency", "integrationStatus"]
CLF_TIME = re.compile(r"^\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000$")


def logged_api():
    return api(integrations=[integration("echo", "http://backend/echo/{proxy}"), integration("pass", "http://backend")],
               routes=[{"routeKey": "GET /e/{proxy+}", "target": "echo"},
                       {"routeKey": "GET /garbage", "target": "pass"}])


def read_lines(path, n):
    def enough():
        if not path.exists():
            return None
        lines = path.read_text().splitlines()
        return lines if len(lines) >= n else None

    return wait_until(enough, 5, message="%d access log lines in %s" % (n, path))


def test_access_log_writes_one_json_line_per_request_to_a_file(gateway_factory, upstream):
    cfg = config([upstream.port], apis=[logged_api()],
                 settings={"accessLog": {"enabled": True, "destination": "file://./access.log"}})
    gw = gateway_factory(cfg)
    ok = requests.get(gw.url + "/e/a/b", timeout=TIMEOUT)
    missing = requests.post(gw.url + "/nowhere", data=b"x", timeout=TIMEOUT)
    bad = requests.get(gw.url + "/garbage", timeout=TIMEOUT)
    assert (ok.status_code, missing.status_code, bad.status_code) == (200, 404, 502)
    ids = [r.headers["apigw-requestid"] for r in (ok, missing, bad)]
    lines = read_lines(gw.workdir / "access.log", 3)
    entries = {e["requestId"]: e for e in map(json.loads, lines) if e["requestId"] in ids}
    assert len(entries) == 3
    for e in entries.values():
        assert list(e) == FIELDS
        assert e["ip"] == "127.0.0.1"
        assert e["protocol"] == "HTTP/1.1"
        assert CLF_TIME.match(e["requestTime"]), e
        assert isinstance(e["responseLatency"], int) and e["responseLatency"] >= 0

    first = entries[ok.headers["apigw-requestid"]]
    assert first["httpMethod"] == "GET"
    assert first["routeKey"] == "GET /e/{proxy+}"
    assert first["status"] == 200
    assert first["integrationStatus"] == 200
    assert first["responseLength"] == len(ok.content)
    assert isinstance(first["integrationLatency"], int)

    second = entries[missing.headers["apigw-requestid"]]
    assert (second["httpMethod"], second["status"], second["routeKey"]) == ("POST", 404, "-")
    assert second["integrationStatus"] is None and second["integrationLatency"] is None
    assert second["responseLength"] == len(b'{"message":"Not Found"}')

    third = entries[bad.headers["apigw-requestid"]]
    assert (third["status"], third["routeKey"], third["integrationStatus"]) == (502, "GET /garbage", None)


def test_access_log_custom_format_on_stdout(gateway_factory, upstream):
    fmt = "$context.requestId $context.httpMethod $context.status $context.routeKey $context.stage"
    cfg = config([upstream.port], apis=[logged_api()],
                 settings={"accessLog": {"enabled": True, "destination": "stdout", "format": fmt}})
    gw = gateway_factory(cfg)
    r = requests.get(gw.url + "/e/x", timeout=TIMEOUT)
    expected = "%s GET 200 GET /e/{proxy+} $default" % r.headers["apigw-requestid"]
    wait_until(lambda: expected in gw.stdout().splitlines(), 5, message="the formatted line on stdout")


def test_access_log_lines_are_flushed_on_sigterm(gateway_factory, upstream):
    cfg = config([upstream.port], apis=[logged_api()],
                 settings={"accessLog": {"enabled": True, "destination": "file://./access.log"}})
    gw = gateway_factory(cfg)
    ids = []
    with requests.Session() as s:
        for i in range(50):
            ids.append(s.get(gw.url + "/e/%d" % i, timeout=TIMEOUT).headers["apigw-requestid"])
    assert gw.terminate() == 0
    gw.exit_checked = True
    logged = [json.loads(line)["requestId"] for line in (gw.workdir / "access.log").read_text().splitlines()]
    assert set(ids) <= set(logged)
    assert len(logged) == len(set(logged))


def test_admin_requests_are_not_written_to_the_api_access_log(gateway_factory, upstream):
    cfg = config([upstream.port], apis=[logged_api()],
                 settings={"accessLog": {"enabled": True, "destination": "file://./access.log"}})
    gw = gateway_factory(cfg)  # startup polls GET /admin/health
    for _ in range(3):
        gw.health()
    r = requests.get(gw.url + "/e/only", timeout=TIMEOUT)
    assert gw.terminate() == 0
    gw.exit_checked = True
    logged = [json.loads(line) for line in (gw.workdir / "access.log").read_text().splitlines()]
    assert [e["requestId"] for e in logged] == [r.headers["apigw-requestid"]], logged


def test_access_log_is_off_by_default(gateway_factory, upstream):
    gw = gateway_factory(config([upstream.port], apis=[logged_api()]))
    assert requests.get(gw.url + "/e/x", timeout=TIMEOUT).status_code == 200
    assert gw.terminate() == 0
    gw.exit_checked = True
    assert gw.stdout() == ""
    assert not (gw.workdir / "access.log").exists()
