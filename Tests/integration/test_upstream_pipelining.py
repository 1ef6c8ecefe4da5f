"""HTTP/1.1 pipelining toward upstreams (`pipelineDepth` on a target group), seen from a real
upstream (upstream.py answers pipelined requests in order, one connection at a time) and from
real clients: every client must get its own response, in order, whatever the upstream does."""

import concurrent.futures
import shutil
import socket
import subprocess
import time

import pytest
import requests

from helpers import TIMEOUT, api, config, connect, fetch_all, h2c_listeners, integration, target_group, ResponseReader

DEPTH = 8


def pipelined(ports, depth=DEPTH, **group):
    return config(ports, groups=[target_group(ports, pipelineDepth=depth, **group)])


def test_concurrent_requests_share_pipelined_connections(gateway_factory, upstream):
    gw = gateway_factory(pipelined([upstream.port]), workers=1)
    # 24 requests that each hold the upstream 150 ms: one connection each without pipelining.
    results = fetch_all(gw, ["/stall?ms=150&i=%d" % i for i in range(24)], clients=24)
    assert [r.status_code for _, r in results] == [200] * 24
    stats = upstream.stats()
    assert stats["requests"] == 24
    # 8 in flight per connection: 3 connections, give or take one opened while another filled.
    assert stats["connections"] <= 5, stats


def test_without_pipeline_depth_each_concurrent_request_has_its_own_connection(gateway_factory, upstream):
    gw = gateway_factory(config([upstream.port]), workers=1)
    results = fetch_all(gw, ["/stall?ms=150&i=%d" % i for i in range(24)], clients=24)
    assert [r.status_code for _, r in results] == [200] * 24
    assert upstream.stats()["connections"] >= 20


def test_every_client_gets_its_own_response_in_order(gateway_factory, upstream):
    gw = gateway_factory(pipelined([upstream.port]), workers=1)
    paths = []
    for i in range(480):
        kind = i % 4
        if kind == 0:
            paths.append("/echo/%d" % i)
        elif kind == 1:
            paths.append("/big?bytes=%d&i=%d" % (100 + 37 * i, i))
        elif kind == 2:
            paths.append("/chunked?n=%d&i=%d" % (1 + i % 5, i))
        else:
            paths.append("/status/%d?i=%d" % (201 + i % 3, i))
    results = fetch_all(gw, paths, clients=24)
    assert len(results) == 480
    for path, r in results:
        if path.startswith("/echo/"):
            assert r.status_code == 200 and r.json()["path"] == path, (path, r.text[:200])
        elif path.startswith("/big"):
            n = int(path.split("bytes=")[1].split("&")[0])
            assert r.status_code == 200 and r.content == b"x" * n, path
        elif path.startswith("/chunked"):
            n = int(path.split("n=")[1].split("&")[0])
            assert r.text == "".join("chunk-%d;" % k for k in range(n)), path
        else:
            assert r.status_code == int(path[8:11]) and r.json()["status"] == r.status_code, path
    assert upstream.stats()["connections"] <= 2 * 24 // DEPTH + 2


def test_head_responses_without_a_body_keep_the_pipeline_in_step(gateway_factory, upstream):
    gw = gateway_factory(pipelined([upstream.port]), workers=1)
    paths = ["/big?bytes=5000&i=%d" % i for i in range(120)]

    def run(chunk):
        out = []
        with requests.Session() as s:
            for i, p in enumerate(chunk):
                method = "HEAD" if i % 2 else "GET"
                out.append((method, s.request(method, gw.url + p, timeout=TIMEOUT)))
        return out

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        results = [x for part in pool.map(run, [paths[i::12] for i in range(12)]) for x in part]
    for method, r in results:
        assert r.status_code == 200
        assert r.headers["content-length"] == "5000"
        assert r.content == (b"" if method == "HEAD" else b"x" * 5000)


def test_requests_with_a_body_are_not_pipelined_and_arrive_whole(gateway_factory, upstream):
    gw = gateway_factory(pipelined([upstream.port]), workers=1)

    def post(i):
        body = (b"%d-" % i) * (1000 + i)
        r = requests.post(gw.url + "/echo/post/%d" % i, data=body, timeout=TIMEOUT)
        return body, r

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        posts = pool.map(post, range(32))
        gets = fetch_all(gw, ["/echo/get/%d" % i for i in range(64)], clients=16)
    import hashlib
    for body, r in posts:
        assert r.status_code == 200
        assert r.json()["bodyLength"] == len(body)
        assert r.json()["bodySha256"] == hashlib.sha256(body).hexdigest()
    assert all(r.json()["path"] == p for p, r in gets)


def test_upstream_closing_after_a_response_sends_the_waiting_requests_elsewhere(gateway_factory, upstream):
    gw = gateway_factory(pipelined([upstream.port]), workers=1)
    # Every fifth response says Connection: close and the upstream closes after it; the
    # requests already written behind it on that connection go out again on another one.
    paths = ["/headers?h=Connection:close&i=%d" % i if i % 5 == 0 else "/echo/%d" % i for i in range(200)]
    results = fetch_all(gw, paths, clients=24)
    assert len(results) == 200
    for path, r in results:
        assert r.status_code == 200, (path, r.status_code, r.text)
        if path.startswith("/echo/"):
            assert r.json()["path"] == path
    assert upstream.stats()["requests"] >= 200


def test_upstream_reset_fails_only_the_request_it_was_answering(gateway_factory, upstream):
    gw = gateway_factory(pipelined([upstream.port]), workers=1)
    paths = ["/reset?i=%d" % i if i % 10 == 0 else "/stall?ms=20&i=%d" % i for i in range(100)]
    results = fetch_all(gw, paths, clients=20)
    for path, r in results:
        if path.startswith("/reset"):
            assert r.status_code == 502, (path, r.status_code)
        else:
            assert r.status_code == 200, (path, r.status_code, r.text)


def test_clients_leaving_while_their_requests_wait_do_not_disturb_the_others(gateway_factory, upstream):
    gw = gateway_factory(pipelined([upstream.port]), workers=1)
    # Eight clients send a slow request and leave at once; their requests are already on
    # pipelined connections. Clients after them must still get their own answers.
    leavers = []
    for i in range(8):
        s = connect(gw.port)
        s.sendall(b"GET /stall?ms=200&leaver=%d HTTP/1.1\r\nHost: x\r\n\r\n" % i)
        leavers.append(s)
    time.sleep(0.05)
    for s in leavers:
        s.close()
    results = fetch_all(gw, ["/echo/stay/%d" % i for i in range(96)], clients=12)
    assert all(r.status_code == 200 and r.json()["path"] == p for p, r in results)
    assert requests.get(gw.url + "/echo/after", timeout=TIMEOUT).json()["path"] == "/echo/after"


def test_a_stalled_response_times_out_and_the_requests_behind_it_are_answered(gateway_factory, upstream):
    cfg = config([upstream.port], groups=[target_group([upstream.port], pipelineDepth=DEPTH)],
                 apis=[api(integrations=[integration("pass", "http://backend", timeoutInMillis=600)])])
    gw = gateway_factory(cfg, workers=1)
    slow = connect(gw.port)
    slow.sendall(b"GET /stall?ms=3000 HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.3)
    # These join the stalled request's connection, behind it. When it times out they have
    # waited less than their own 600 ms, so they are sent again on another connection.
    started = time.monotonic()
    results = fetch_all(gw, ["/echo/behind/%d" % i for i in range(6)], clients=6)
    took = time.monotonic() - started
    response = ResponseReader(slow).read()
    slow.close()
    assert response.status == 504
    assert response.json() == {"message": "Service Unavailable"}
    assert [(p, r.status_code) for p, r in results] == [(p, 200) for p, _ in results]
    assert all(r.json()["path"] == p for p, r in results)
    assert took < 2.5, "the requests behind the stalled one waited for the upstream's 3 s"


def test_post_and_methods_that_are_not_safe_never_join_a_busy_connection(gateway_factory, upstream):
    gw = gateway_factory(pipelined([upstream.port]), workers=1)
    slow = connect(gw.port)
    slow.sendall(b"GET /stall?ms=500 HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.1)
    started = time.monotonic()
    r = requests.delete(gw.url + "/echo/delete", timeout=TIMEOUT)
    assert r.status_code == 200 and r.json()["method"] == "DELETE"
    assert time.monotonic() - started < 0.4, "DELETE waited behind the pipelined GET"
    assert ResponseReader(slow).read().status == 200
    slow.close()


def test_pipeline_depth_on_an_https_group_is_refused(gateway_factory, upstream):
    cfg = config([upstream.port], groups=[target_group([upstream.port], pipelineDepth=4, protocol="HTTPS")])
    gw = gateway_factory(cfg, start=False)
    out = subprocess.run([gw.binary, "validate", str(gw.config_path)],
                         capture_output=True, text=True, timeout=TIMEOUT)
    assert out.returncode != 0
    assert "pipelining applies to HTTP target groups only" in out.stdout + out.stderr


@pytest.mark.skipif(shutil.which("h2load") is None, reason="needs h2load (nghttp2-client)")
def test_http2_streams_are_pipelined_upstream_and_all_answered(gateway_factory, upstream):
    cfg = pipelined([upstream.port])
    gw = gateway_factory(cfg, workers=1, start=False)
    gw.write_config(dict(cfg, listeners=h2c_listeners(gw)))
    gw.start()
    out = subprocess.run(["h2load", "-n", "400", "-c", "4", "-m", "20", gw.url + "/echo/h2"],
                         capture_output=True, text=True, timeout=60)
    assert "400 succeeded" in out.stdout, out.stdout
    assert "status codes: 400 2xx" in out.stdout, out.stdout
    assert upstream.stats()["requests"] == 400
    assert upstream.stats()["connections"] <= 12


def test_a_slow_reader_at_the_front_of_a_pipeline_then_the_requests_behind_it(gateway_factory, upstream):
    gw = gateway_factory(pipelined([upstream.port]), workers=1)
    slow = connect(gw.port)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
    # About 2.6 MB in small chunks: the gateway pauses reading the upstream while this client
    # reads nothing, with requests queued behind it on the same upstream connection.
    slow.sendall(b"GET /chunked?n=200000 HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.3)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        behind = [pool.submit(requests.get, gw.url + "/echo/behind/%d" % i, timeout=TIMEOUT) for i in range(4)]
        time.sleep(0.5)
        data = bytearray()
        while not data.endswith(b"\r\n0\r\n\r\n"):
            chunk = slow.recv(1 << 20)
            assert chunk, "connection closed after %d bytes" % len(data)
            data += chunk
        assert data.startswith(b"HTTP/1.1 200")
        assert b"chunk-199999;" in data[-64:]
        assert len(data) > 2_600_000
        assert all(f.result().json()["path"] == "/echo/behind/%d" % i for i, f in enumerate(behind))
    slow.close()


def test_a_pipeline_paused_for_a_slow_http2_client_goes_on_for_the_requests_behind(gateway_factory, upstream):
    """An HTTP/2 client that reads nothing has a big download queued on its connection (from a
    group without pipelining). Its next, small chunked response is at the front of a pipelined
    connection: relaying it pauses that connection's reads (the client's queue is over the
    high-water mark) and completes it in the same pass. The requests queued behind it, from
    other clients, must still be answered: reading resumes for them."""
    from test_http2 import RawH2
    import h2.settings
    groups = [target_group([upstream.port], pipelineDepth=DEPTH), target_group([upstream.port], name="bulk")]
    apis = [api(integrations=[integration("pass", "http://backend"), integration("bulk", "http://bulk")],
                routes=[{"routeKey": "$default", "target": "pass"}, {"routeKey": "GET /big", "target": "bulk"}])]
    cfg = config([upstream.port], groups=groups, apis=apis)
    gw = gateway_factory(cfg, workers=1, start=False)
    gw.write_config(dict(cfg, listeners=h2c_listeners(gw)))
    gw.start()
    client = RawH2(gw.port)
    client.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 2 ** 31 - 1})
    client.conn.increment_flow_control_window(2 ** 31 - 1 - 65535)
    client.flush()
    client.request("/big?bytes=30000000")
    time.sleep(0.5)  # the gateway's queue toward this client fills
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        front = pool.submit(requests.get, gw.url + "/stall?ms=400", timeout=TIMEOUT)
        time.sleep(0.1)
        client.request("/chunked?n=400")
        time.sleep(0.1)
        behind = [pool.submit(requests.get, gw.url + "/echo/behind/%d" % i, timeout=5) for i in range(3)]
        assert front.result().status_code == 200
        assert [f.result().json()["path"] for f in behind] == ["/echo/behind/%d" % i for i in range(3)]
    client.sock.close()


def test_a_client_too_slow_for_its_pipeline_has_its_response_cut_and_the_rest_go_on(gateway_factory, upstream):
    gw = gateway_factory(pipelined([upstream.port]), workers=1)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        first = pool.submit(requests.get, gw.url + "/stall?ms=400", timeout=TIMEOUT)
        time.sleep(0.1)
        slow = connect(gw.port)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
        slow.sendall(b"GET /big?bytes=60000000 HTTP/1.1\r\nHost: x\r\n\r\n")  # second on the connection
        time.sleep(0.1)
        started = time.monotonic()
        behind = [pool.submit(requests.get, gw.url + "/echo/behind/%d" % i, timeout=TIMEOUT) for i in range(3)]
        assert first.result().status_code == 200
        assert [f.result().json()["path"] for f in behind] == ["/echo/behind/%d" % i for i in range(3)]
        assert time.monotonic() - started < 5, "the requests behind waited for the slow client"
    # The slow client's response was cut: the gateway closed its connection short of 60 MB.
    received = 0
    while True:
        chunk = slow.recv(1 << 20)
        if not chunk:
            break
        received += len(chunk)
    slow.close()
    assert 0 < received < 60000000
    assert requests.get(gw.url + "/echo/after", timeout=TIMEOUT).json()["path"] == "/echo/after"
