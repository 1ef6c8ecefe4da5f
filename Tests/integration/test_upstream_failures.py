"""Upstreams that fail: garbage, resets, stalls, death and return, unreachable endpoints."""

import time

import pytest
import requests

from conftest import free_port
from helpers import TIMEOUT, api, config, integration, target_group, wait_until

BAD_GATEWAY = b'{"message":"Internal Server Error"}'
UNAVAILABLE = b'{"message":"Service Unavailable"}'


def get(gw, path, session=None, **kw):
    kw.setdefault("timeout", TIMEOUT)
    return (session or requests).get(gw.url + path, **kw)


@pytest.fixture
def gw(gateway_factory, upstream):
    return gateway_factory(config([upstream.port]))


def test_upstream_answering_garbage_is_502_and_the_next_request_works(gw):
    r = get(gw, "/garbage")
    assert (r.status_code, r.content) == (502, BAD_GATEWAY)
    assert r.headers["content-type"] == "application/json"
    assert r.headers["apigw-requestid"]
    assert get(gw, "/echo/after").json()["path"] == "/echo/after"


def test_upstream_resetting_the_connection_is_502_and_the_next_request_works(gw):
    with requests.Session() as s:
        r = get(gw, "/reset", s)
        assert (r.status_code, r.content) == (502, BAD_GATEWAY)
        assert get(gw, "/echo/after", s).status_code == 200


def test_stalled_upstream_is_504_at_the_configured_timeout(gateway_factory, upstream):
    cfg = config([upstream.port], apis=[api(integrations=[
        integration("pass", "http://backend", timeoutInMillis=1000)])])
    gw = gateway_factory(cfg)
    started = time.monotonic()
    r = get(gw, "/stall?ms=4000")
    elapsed = time.monotonic() - started
    assert (r.status_code, r.content) == (504, UNAVAILABLE)
    assert r.headers["apigw-requestid"]
    assert 1.0 <= elapsed <= 2.5, "504 after %.2fs for a 1000 ms timeout" % elapsed
    fast = get(gw, "/stall?ms=200")
    assert fast.status_code == 200
    assert fast.json() == {"stalled": True, "upstream": "up0"}


def test_killed_upstream_is_502_then_recovers_when_it_returns_on_the_same_port(gw, upstream):
    with requests.Session() as s:
        for _ in range(5):
            assert get(gw, "/echo", s).status_code == 200
        upstream.stop()
        for _ in range(5):
            r = get(gw, "/echo", s)
            assert (r.status_code, r.content) == (502, BAD_GATEWAY)
        upstream.start()
        statuses = [get(gw, "/echo/back", s).status_code for _ in range(20)]
    assert statuses == [200] * 20


def test_killed_upstream_with_health_checks_is_503_then_recovers(gateway_factory, upstream):
    group = target_group([upstream.port], healthCheck={
        "path": "/healthz", "intervalSeconds": 1, "timeoutSeconds": 1, "healthyThreshold": 1, "unhealthyThreshold": 1})
    gw = gateway_factory(config([upstream.port], groups=[group]))
    endpoint = "127.0.0.1:%d" % upstream.port
    assert get(gw, "/echo").status_code == 200
    upstream.stop()
    wait_until(lambda: gw.endpoint_health()[endpoint] is False, 5, message="endpoint marked down")
    r = get(gw, "/echo")
    assert (r.status_code, r.content) == (503, UNAVAILABLE)
    assert r.headers["apigw-requestid"]
    upstream.start()
    wait_until(lambda: gw.endpoint_health()[endpoint], 5, message="endpoint marked up")
    assert [get(gw, "/echo").status_code for _ in range(10)] == [200] * 10


def test_no_healthy_endpoint_is_503(gateway_factory, upstream):
    upstream.fail_health()
    group = target_group([upstream.port], healthCheck={
        "path": "/healthz", "intervalSeconds": 1, "healthyThreshold": 1, "unhealthyThreshold": 1})
    gw = gateway_factory(config([upstream.port], groups=[group]))
    wait_until(lambda: gw.endpoint_health()["127.0.0.1:%d" % upstream.port] is False, 5, message="endpoint down")
    r = get(gw, "/echo")
    assert (r.status_code, r.content) == (503, UNAVAILABLE)
    assert upstream.stats()["requests"] == 0


def test_connect_failure_is_retried_once_on_another_endpoint(gateway_factory, upstream):
    dead = free_port()
    gw = gateway_factory(config([], groups=[target_group([dead, upstream.port])]))
    with requests.Session() as s:
        statuses = [get(gw, "/echo/%d" % i, s).status_code for i in range(20)]
    assert statuses == [200] * 20
    assert upstream.stats()["requests"] == 20


def test_unreachable_single_endpoint_is_502(gateway_factory):
    gw = gateway_factory(config([], groups=[target_group([free_port()], connectTimeoutMillis=500)]))
    r = get(gw, "/echo")
    assert (r.status_code, r.content) == (502, BAD_GATEWAY)


def _ejecting_gateway(gateway_factory, upstream_factory, ejection_seconds):
    good = upstream_factory("good")
    flaky = upstream_factory("flaky")
    flaky.stop()
    group = target_group([good.port, flaky.port],
                         passiveEjection={"consecutiveFailures": 2, "ejectionSeconds": ejection_seconds})
    return gateway_factory(config([], groups=[group])), good, flaky


def test_passive_ejection_rests_a_failing_endpoint_then_readmits_it(gateway_factory, upstream_factory):
    gw, good, flaky = _ejecting_gateway(gateway_factory, upstream_factory, ejection_seconds=3)
    with requests.Session() as s:
        assert [get(gw, "/echo", s).status_code for _ in range(12)] == [200] * 12
        ejected_at = time.monotonic()
        assert gw.endpoint_health()["127.0.0.1:%d" % flaky.port] is False, gw.health()
        flaky.start()
        assert [get(gw, "/echo", s).status_code for _ in range(10)] == [200] * 10
        assert flaky.stats()["requests"] == 0, "an ejected endpoint got traffic within ejectionSeconds"
        assert time.monotonic() - ejected_at < 2.5, "too slow to observe the ejection window"

        def flaky_served():
            assert get(gw, "/echo", s).status_code == 200
            return flaky.stats()["requests"] > 0

        wait_until(flaky_served, 6, interval=0.1, message="the ejected endpoint to take traffic again")
    assert time.monotonic() - ejected_at >= 2.0


def test_admin_health_stops_reporting_an_ejection_once_it_expired(gateway_factory, upstream_factory):
    gw, good, flaky = _ejecting_gateway(gateway_factory, upstream_factory, ejection_seconds=1)
    endpoint = "127.0.0.1:%d" % flaky.port
    with requests.Session() as s:
        assert [get(gw, "/echo", s).status_code for _ in range(8)] == [200] * 8
    entry = [e for g in gw.health()["targetGroups"] for e in g["endpoints"] if e["endpoint"] == endpoint][0]
    assert entry["ejected"] is True
    flaky.start()
    time.sleep(1.5)
    entry = [e for g in gw.health()["targetGroups"] for e in g["endpoints"] if e["endpoint"] == endpoint][0]
    assert entry == {"endpoint": endpoint, "healthy": True, "ejected": False}


def test_a_request_that_reached_the_upstream_is_not_retried(gateway_factory, upstream_factory):
    a, b = upstream_factory("a"), upstream_factory("b")
    gw = gateway_factory(config([], groups=[target_group([a.port, b.port])]))
    for method in ("GET", "POST"):
        r = requests.request(method, gw.url + "/reset", timeout=TIMEOUT)
        assert (r.status_code, r.content) == (502, BAD_GATEWAY)
    assert a.stats()["requests"] + b.stats()["requests"] == 2


def test_client_that_disconnects_mid_request_does_not_disturb_the_gateway(gw, upstream):
    import socket

    for data in [b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\npartial",
                 b"GET /stall?ms=500 HTTP/1.1\r\nHost: x\r\n\r\n",
                 b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
                 b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Half"]:
        sock = socket.create_connection(("127.0.0.1", gw.port), timeout=TIMEOUT)
        sock.sendall(data)
        time.sleep(0.05)
        sock.close()
    time.sleep(0.6)
    with requests.Session() as s:
        assert [get(gw, "/echo/ok", s).status_code for _ in range(10)] == [200] * 10


class ClosingAfterOneUpstream:
    """A real HTTP/1.1 server (a thread, raw sockets) that answers the first request on each
    connection with keep-alive, then closes the connection without answering the second —
    what an upstream whose keep-alive timeout expires just as a pooled connection is reused
    looks like to the gateway. It counts the requests it read."""

    def __init__(self):
        import socket as socket_module
        import threading
        self.sock = socket_module.socket()
        self.sock.setsockopt(socket_module.SOL_SOCKET, socket_module.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        self.lock = threading.Lock()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        import threading
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn):
        buf = b""
        answered = 0
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                buf += data
                while b"\r\n\r\n" in buf:
                    head, buf = buf.split(b"\r\n\r\n", 1)
                    with self.lock:
                        self.requests.append(head.split(b" ")[1].decode())
                    if answered:
                        return  # closes without a byte of answer
                    answered += 1
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    def close(self):
        self.sock.close()


@pytest.mark.parametrize("group_fields", [{}, {"pipelineDepth": 4}], ids=["pooled", "pipelined"])
def test_a_get_on_a_pooled_connection_the_upstream_closed_is_sent_again(gateway_factory, group_fields):
    up = ClosingAfterOneUpstream()
    try:
        gw = gateway_factory(config([up.port], groups=[target_group([up.port], **group_fields)]), workers=1)
        with requests.Session() as s:
            for i in range(6):
                r = s.get(gw.url + "/again/%d" % i, timeout=TIMEOUT)
                assert (r.status_code, r.text) == (200, "ok"), i
        # Each request after the first went out on the pooled connection, was dropped, and went again.
        assert up.requests[:3] == ["/again/0", "/again/1", "/again/1"]
        # A POST is never sent twice: it gets the 502.
        with requests.Session() as s:
            assert s.get(gw.url + "/again/post-0", timeout=TIMEOUT).status_code == 200
            assert s.post(gw.url + "/again/post-1", data=b"x", timeout=TIMEOUT).status_code == 502
        assert up.requests.count("/again/post-1") == 1
    finally:
        up.close()
