"""Plain proxying through the real binary: methods, bodies, forwarding and hop-by-hop headers."""

import hashlib
import json
import re
import threading
import time
import subprocess

import pytest
import requests

from helpers import (TIMEOUT, ResponseReader, api, config, connect, header_names, header_values,
                     integration)

REQUEST_ID = re.compile(r"^[A-Za-z0-9+/=_-]{8,}$")


@pytest.fixture
def gw(gateway_factory, upstream):
    return gateway_factory(config([upstream.port]))


def test_get_is_proxied_with_path_query_and_forwarding_headers(gw, upstream):
    r = requests.get(gw.url + "/echo/a/b?x=1&y=two", timeout=TIMEOUT)
    assert r.status_code == 200
    echo = r.json()
    assert echo["method"] == "GET"
    assert echo["path"] == "/echo/a/b"
    assert echo["query"] == "x=1&y=two"
    assert echo["bodyLength"] == 0
    assert header_values(echo, "host") == ["backend"]
    assert header_values(echo, "x-forwarded-for") == ["127.0.0.1"]
    assert header_values(echo, "x-forwarded-proto") == ["http"]
    assert header_values(echo, "x-forwarded-port") == [str(gw.port)]
    assert header_values(echo, "forwarded") == ["for=127.0.0.1;host=\"127.0.0.1:%d\";proto=http" % gw.port]
    assert REQUEST_ID.match(r.headers["apigw-requestid"])


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_methods_with_bodies_reach_upstream_byte_exact(gw, method):
    body = bytes(range(256)) * 40 + b"tail"
    r = requests.request(method, gw.url + "/echo/items/42", data=body, timeout=TIMEOUT,
                         headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200
    echo = r.json()
    assert echo["method"] == method
    assert echo["path"] == "/echo/items/42"
    assert echo["bodyLength"] == len(body)
    assert echo["bodySha256"] == hashlib.sha256(body).hexdigest()
    assert header_values(echo, "content-type") == ["application/octet-stream"]


def test_delete_without_body_is_proxied(gw):
    r = requests.delete(gw.url + "/echo/items/42", timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.json()["method"] == "DELETE"
    assert r.json()["bodyLength"] == 0


@pytest.mark.parametrize("status", [201, 204, 301, 400, 404, 418, 500, 503])
def test_upstream_status_and_body_pass_through_unchanged(gw, status):
    r = requests.get(gw.url + "/status/%d" % status, timeout=TIMEOUT, allow_redirects=False)
    assert r.status_code == status
    if status == 204:
        assert r.content == b""
    else:
        assert r.json() == {"status": status, "upstream": "up0"}
    assert r.headers["apigw-requestid"]


def test_hop_by_hop_headers_are_not_forwarded_and_end_to_end_ones_are(gw):
    r = requests.get(gw.url + "/echo", timeout=TIMEOUT, headers={
        "Connection": "keep-alive, foo",
        "foo": "must-not-pass",
        "Keep-Alive": "timeout=5",
        "TE": "trailers",
        "Proxy-Connection": "keep-alive",
        "Trailer": "x-checksum",
        "X-Custom": "kept",
        "Authorization": "Bearer token-1",
    })
    assert r.status_code == 200
    echo = r.json()
    names = header_names(echo)
    for dropped in ("foo", "keep-alive", "te", "proxy-connection", "trailer"):
        assert dropped not in names, "%s was forwarded: %r" % (dropped, echo["headers"])
    assert header_values(echo, "connection") in ([], ["keep-alive"])
    assert header_values(echo, "x-custom") == ["kept"]
    assert header_values(echo, "authorization") == ["Bearer token-1"]


def test_client_x_forwarded_for_is_extended_and_forwarding_fields_replaced(gw):
    r = requests.get(gw.url + "/echo", timeout=TIMEOUT, headers={
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Port": "443",
        "Forwarded": "for=198.51.100.1",
    })
    echo = r.json()
    assert header_values(echo, "x-forwarded-for") == ["203.0.113.9, 127.0.0.1"]
    assert header_values(echo, "x-forwarded-proto") == ["http"]
    assert header_values(echo, "x-forwarded-port") == [str(gw.port)]
    assert header_values(echo, "forwarded") == ["for=127.0.0.1;host=\"127.0.0.1:%d\";proto=http" % gw.port]


def test_host_header_is_the_integration_uri_authority(gateway_factory, upstream):
    direct = "http://127.0.0.1:%d" % upstream.port
    cfg = config([upstream.port], apis=[api(
        integrations=[integration("group", "http://backend"), integration("direct", direct)],
        routes=[{"routeKey": "ANY /direct/{proxy+}", "target": "direct"},
                {"routeKey": "$default", "target": "group"}])])
    gw = gateway_factory(cfg)
    via_group = requests.get(gw.url + "/echo", headers={"Host": "client.example"}, timeout=TIMEOUT).json()
    assert header_values(via_group, "host") == ["backend"]
    via_address = requests.get(gw.url + "/direct/echo", timeout=TIMEOUT).json()
    assert header_values(via_address, "host") == ["127.0.0.1:%d" % upstream.port]
    assert via_address["path"] == "/direct/echo"


def test_every_response_has_a_unique_request_id(gw):
    ids = set()
    with requests.Session() as s:
        for path in ["/echo", "/status/500", "/echo?x=1"] * 10:
            ids.add(s.get(gw.url + path, timeout=TIMEOUT).headers["apigw-requestid"])
    assert len(ids) == 30


def test_large_content_length_response_is_relayed_whole(gw):
    r = requests.get(gw.url + "/big?bytes=3000000", timeout=TIMEOUT)
    assert r.status_code == 200
    assert len(r.content) == 3000000
    assert r.content == b"x" * 3000000


def test_chunked_response_is_relayed_whole(gw):
    r = requests.get(gw.url + "/chunked?n=50", timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.text == "".join("chunk-%d;" % i for i in range(50))


def test_head_response_has_no_body_and_connection_stays_usable(gw):
    with connect(gw.port) as sock:
        reader = ResponseReader(sock)
        sock.sendall(b"HEAD /big?bytes=100 HTTP/1.1\r\nHost: x\r\n\r\n")
        head = reader.read(head_request=True)
        assert head.status == 200
        assert head.header("content-length") == "100"
        sock.sendall(b"GET /echo/after-head HTTP/1.1\r\nHost: x\r\n\r\n")
        after = reader.read()
        assert after.status == 200
        assert after.json()["path"] == "/echo/after-head"


def test_pipelined_requests_get_responses_in_order(gw):
    with connect(gw.port) as sock:
        sock.sendall(b"".join(
            b"GET /echo/%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in (1, 2, 3)))
        reader = ResponseReader(sock)
        paths = [reader.read().json()["path"] for _ in range(3)]
    assert paths == ["/echo/1", "/echo/2", "/echo/3"]


def test_pipelined_requests_with_bodies_get_responses_in_order(gw):
    bodies = [b"a" * 10, b"bb" * 2000, b"c"]
    data = b"".join(b"POST /echo/%d HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (i, len(b), b)
                    for i, b in enumerate(bodies))
    with connect(gw.port) as sock:
        sock.sendall(data)
        reader = ResponseReader(sock)
        echoes = [reader.read().json() for _ in bodies]
    assert [e["path"] for e in echoes] == ["/echo/0", "/echo/1", "/echo/2"]
    assert [e["bodyLength"] for e in echoes] == [len(b) for b in bodies]


def test_http10_client_gets_an_answer_and_the_connection_closes(gw):
    with connect(gw.port) as sock:
        sock.sendall(b"GET /echo/old HTTP/1.0\r\nHost: x\r\n\r\n")
        reader = ResponseReader(sock)
        r = reader.read()
        assert r.status == 200
        assert r.json()["path"] == "/echo/old"
        assert r.header("apigw-requestid")
        assert reader.at_eof(), "an HTTP/1.0 connection without keep-alive must be closed after the response"


def test_http10_client_via_curl(gw):
    out = subprocess.run(
        ["curl", "-sS", "--http1.0", "-o", "-", "-w", "\n%{http_code} %{http_version}", "--max-time", str(TIMEOUT),
         gw.url + "/echo/curl10?q=1"],
        capture_output=True, timeout=TIMEOUT + 5)
    assert out.returncode == 0, out.stderr
    body, _, tail = out.stdout.rpartition(b"\n")
    assert tail.split()[0] == b"200"
    echo = json.loads(body)
    assert echo["path"] == "/echo/curl10"
    assert echo["query"] == "q=1"


def test_upstream_hop_by_hop_response_headers_are_dropped_and_the_client_connection_kept(gw, upstream):
    with connect(gw.port) as sock:
        reader = ResponseReader(sock)
        sock.sendall(b"GET /headers?h=X-Up:1&h=Keep-Alive:timeout%3D5&h=Connection:close HTTP/1.1\r\nHost: x\r\n\r\n")
        r = reader.read()
        assert r.status == 200
        assert r.header("x-up") == "1"
        assert r.header("keep-alive") is None
        assert r.header("connection") in (None, "keep-alive")
        for i in range(3):
            sock.sendall(b"GET /echo/%d HTTP/1.1\r\nHost: x\r\n\r\n" % i)
            assert reader.read().json()["path"] == "/echo/%d" % i
    assert upstream.stats()["requests"] == 4


def test_concurrent_clients_each_get_their_own_response(gw):

    mismatches = []
    done = []

    def client(n):
        with requests.Session() as s:
            for i in range(25):
                body = b"%d-%d-" % (n, i) * (n + i + 1)
                r = s.post(gw.url + "/echo/c%d/r%d" % (n, i), data=body, timeout=TIMEOUT)
                echo = r.json()
                if (r.status_code, echo["path"], echo["bodySha256"]) != (
                        200, "/echo/c%d/r%d" % (n, i), hashlib.sha256(body).hexdigest()):
                    mismatches.append((n, i, r.status_code, echo["path"]))
        done.append(n)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT * 3)
    assert mismatches == []
    assert sorted(done) == list(range(12))


def test_idle_client_connection_is_closed_after_keep_alive_timeout(gateway_factory, upstream):
    gw = gateway_factory(config([upstream.port], settings={"keepAliveTimeoutSeconds": 1}))
    with connect(gw.port) as sock:
        reader = ResponseReader(sock)
        sock.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        assert reader.read().status == 200
        started = time.monotonic()
        assert reader.at_eof(timeout=4)
        assert 0.5 <= time.monotonic() - started <= 3


def test_close_delimited_upstream_response_is_relayed_whole(gw):
    with requests.Session() as s:
        r = s.get(gw.url + "/eof-body", timeout=TIMEOUT)
        assert r.status_code == 200
        assert r.content == b"body-until-close"
        assert s.get(gw.url + "/echo/next", timeout=TIMEOUT).json()["path"] == "/echo/next"


def test_http10_client_asking_for_keep_alive_keeps_its_connection(gw):
    with connect(gw.port) as sock:
        reader = ResponseReader(sock)
        for i in range(3):
            sock.sendall(b"GET /echo/ka%d HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n" % i)
            r = reader.read()
            assert r.status == 200
            assert r.json()["path"] == "/echo/ka%d" % i
            assert r.header("connection").lower() == "keep-alive"


def test_percent_encoded_path_and_query_pass_through_unchanged(gw):
    with connect(gw.port) as sock:
        sock.sendall(b"GET /echo/a%2Fb/%C3%A9?q=a%20b&x=%2F&empty= HTTP/1.1\r\nHost: x\r\n\r\n")
        echo = ResponseReader(sock).read().json()
    assert echo["path"] == "/echo/a%2Fb/%C3%A9"
    assert echo["query"] == "q=a%20b&x=%2F&empty="


def test_expect_100_continue_to_an_unrouted_path_is_answered_without_waiting_for_the_body(gateway_factory, upstream):
    cfg = config([upstream.port], apis=[api(routes=[{"routeKey": "POST /upload", "target": "pass"}])])
    gw = gateway_factory(cfg)
    with connect(gw.port) as sock:
        reader = ResponseReader(sock)
        sock.sendall(b"POST /elsewhere HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n")
        started = time.monotonic()
        r = reader.read()
        assert (r.status, r.body) == (404, b'{"message":"Not Found"}')
        assert time.monotonic() - started < 0.5


def test_forwarded_host_without_port_is_a_bare_token(gw):
    echo = requests.get(gw.url + "/echo", headers={"Host": "shop.example"}, timeout=TIMEOUT).json()
    assert header_values(echo, "forwarded") == ["for=127.0.0.1;host=shop.example;proto=http"]
