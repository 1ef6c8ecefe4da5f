"""Malformed and smuggling-prone requests over raw sockets: refused with AWS-shaped bodies, the
connection closed, nothing reaching the upstream, and the gateway still serving afterwards."""

import re
import pytest
import requests

from helpers import TIMEOUT, ResponseReader, config, connect

HEAD = b"Host: x\r\n"

CASES = [
    ("content-length-and-transfer-encoding", 400,
     b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("duplicate-differing-content-length", 400,
     b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
    ("obs-fold", 400,
     b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Folded: first\r\n second\r\n\r\n"),
    ("bare-cr-in-header-value", 400,
     b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Bad: a\rb\r\n\r\n"),
    ("space-before-colon", 400,
     b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Spaced : v\r\n\r\n"),
    ("invalid-token-in-header-name", 400,
     b"GET /echo HTTP/1.1\r\nHost: x\r\nX(Bad): v\r\n\r\n"),
    ("not-a-request-line", 400,
     b"HELLO\r\n\r\n"),
    ("negative-content-length", 400,
     b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"),
    ("missing-host-in-http11", 400,
     b"GET /echo HTTP/1.1\r\nUser-Agent: t\r\n\r\n"),
    ("two-host-fields", 400,
     b"GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
    ("transfer-encoding-gzip", 501,
     b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"),
    ("http-2-0-request-line", 505,
     b"GET /echo HTTP/2.0\r\nHost: x\r\n\r\n"),
    ("huge-header", 431,
     b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Huge: " + b"h" * 40000 + b"\r\n\r\n"),
    ("long-uri", 414,
     b"GET /echo/" + b"u" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
]

REASONS = {
    400: "Bad Request",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    501: "Not Implemented",
    505: "HTTP Version Not Supported",
}


@pytest.fixture(scope="module")
def served(request, tmp_path_factory, turnpike_bin):
    """One gateway and upstream for the whole module; each case opens its own connection."""
    from conftest import Gateway, Upstream

    upstream = Upstream("up0").start()
    gw = Gateway(turnpike_bin, tmp_path_factory.mktemp("parser"), config([upstream.port])).start()
    yield gw, upstream
    rc = gw.terminate(timeout=TIMEOUT)
    upstream.stop()
    assert rc == 0, gw.stderr()


@pytest.mark.parametrize("name,status,data", CASES, ids=[c[0] for c in CASES])
def test_malformed_request_is_refused_and_the_connection_closed(served, name, status, data):
    gw, upstream = served
    before = upstream.stats()["requests"]
    with connect(gw.port) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the gateway may answer and close before reading everything
        reader = ResponseReader(sock)
        r = reader.read()
        assert r.status == status, r
        assert r.reason == REASONS[status]
        assert r.body == b'{"message":"%s"}' % REASONS[status].encode()
        assert r.header("content-type") == "application/json"
        assert r.header("connection") == "close"
        assert re.fullmatch(r"[A-Za-z0-9+/]{15}=", r.header("apigw-requestid") or "")
        assert reader.at_eof()
    assert upstream.stats()["requests"] == before
    assert requests.get(gw.url + "/echo/still-serving", timeout=TIMEOUT).json()["path"] == "/echo/still-serving"


def test_request_smuggled_behind_a_refused_one_is_never_served(served):
    gw, upstream = served
    smuggled = b"GET /echo/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    data = (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + str(len(smuggled) + 5).encode()
            + b"\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled)
    with connect(gw.port) as sock:
        sock.sendall(data)
        reader = ResponseReader(sock)
        assert reader.read().status == 400
        assert reader.at_eof()
    assert "/echo/smuggled" not in [r["path"] for r in upstream.recent_requests()]


def test_malformed_chunked_body_is_400_bad_request(served):
    gw, upstream = served
    with connect(gw.port) as sock:
        sock.sendall(b"POST /echo/chunks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
        reader = ResponseReader(sock)
        r = reader.read()
        assert (r.status, r.body) == (400, b'{"message":"Bad Request"}')
        assert reader.at_eof()
    assert requests.get(gw.url + "/echo/after", timeout=TIMEOUT).status_code == 200


def test_many_refused_requests_do_not_disturb_keep_alive_clients(served):
    gw, _ = served
    with requests.Session() as s:
        for i in range(30):
            with connect(gw.port) as sock:
                sock.sendall(CASES[i % len(CASES)][2])
                ResponseReader(sock).read()
            assert s.get(gw.url + "/echo/%d" % i, timeout=TIMEOUT).json()["path"] == "/echo/%d" % i
