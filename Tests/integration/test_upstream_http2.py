"""HTTP/2 toward upstreams (`http2: true` on a target group: h2c with prior knowledge).

The upstream is a real nginx whose listener speaks only HTTP/2 (`listen ... http2`, no TLS),
proxying to upstream.py so that the echo, stall, chunked and big-body endpoints are there.
nginx's access log records the protocol and the connection number of every request, which
is how the tests see that requests arrived as streams sharing a few connections."""

import concurrent.futures
import hashlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from conftest import free_port, port_accepts
from helpers import TIMEOUT, api, config, connect, fetch_all, h2c_listeners, integration, target_group, wait_until, ResponseReader

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="needs nginx")


def run_nginx(folder, log, http_block, ports):
    """Starts nginx in the foreground (a child of the test) with `http_block` inside http { },
    logging every request's connection number and protocol to `log`; waits for `ports`."""
    user = "user %s;" % pwd.getpwuid(os.geteuid()).pw_name if os.geteuid() == 0 else ""
    conf = Path(folder) / "nginx.conf"
    conf.write_text("""
%(user)s
worker_processes 1;
daemon off;
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log;
events { worker_connections 1024; }
http {
  log_format streams '$connection $server_protocol $request_method $request_uri $status';
  access_log %(log)s streams;
%(block)s
}
""" % {"user": user, "dir": folder, "log": log, "block": http_block})
    proc = subprocess.Popen(["nginx", "-p", str(folder), "-c", str(conf), "-e", str(Path(folder) / "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: all(port_accepts(p) for p in ports), TIMEOUT, message="nginx listening")
    return proc


def log_entries(log):
    """(connection, protocol, method, uri, status) of every request logged so far."""
    return [tuple(line.split(" ")) for line in log.read_text().splitlines() if line] if log.exists() else []


class H2cNginx:
    """nginx with an HTTP/2-only cleartext listener in front of an upstream.py."""

    def __init__(self, folder, backend_port):
        self.folder = Path(folder)
        self.port = free_port()
        self.backend_port = backend_port
        self.log = self.folder / "access.log"
        self.proc = None

    def start(self):
        self.proc = run_nginx(self.folder, self.log, """
  client_max_body_size 0;
  http2_max_concurrent_streams 256;
  server {
    listen 127.0.0.1:%(port)d http2;
    location / {
      proxy_pass http://127.0.0.1:%(backend)d;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_request_buffering off;
      proxy_buffering off;
      proxy_read_timeout 30s;
    }
  }""" % {"port": self.port, "backend": self.backend_port}, [self.port])
        return self

    def stop(self, sig=signal.SIGQUIT):
        if self.proc is None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=TIMEOUT)
        self.proc = None
        wait_until(lambda: not port_accepts(self.port), TIMEOUT, message="nginx stopped")

    def entries(self):
        return log_entries(self.log)


@pytest.fixture
def h2c(tmp_path, upstream):
    folder = tmp_path / "h2c-nginx"
    folder.mkdir()
    server = H2cNginx(folder, upstream.port).start()
    yield server
    server.stop()


def h2_group(port, **extra):
    return target_group([port], http2=True, **extra)


def gateway_for(gateway_factory, h2c, workers=1, **integration_fields):
    integrations = [integration("pass", "http://backend", **integration_fields)]
    cfg = config([h2c.port], groups=[h2_group(h2c.port)], apis=[api(integrations=integrations)])
    return gateway_factory(cfg, workers=workers)


def test_requests_arrive_as_http2_streams_sharing_one_connection(gateway_factory, h2c):
    gw = gateway_for(gateway_factory, h2c)
    results = fetch_all(gw, ["/echo/%d" % i for i in range(200)], clients=20)
    assert all(r.status_code == 200 and r.json()["path"] == p for p, r in results)
    entries = [e for e in h2c.entries() if e[3].startswith("/echo/")]
    assert len(entries) == 200
    assert {e[1] for e in entries} == {"HTTP/2.0"}
    assert len({e[0] for e in entries}) == 1, "one worker, up to 100 streams: one connection"


def test_response_heads_and_bodies_of_every_shape_reach_the_client(gateway_factory, h2c):
    gw = gateway_for(gateway_factory, h2c)
    r = requests.get(gw.url + "/chunked?n=5", timeout=TIMEOUT)
    assert r.status_code == 200 and r.text == "".join("chunk-%d;" % i for i in range(5))
    assert r.headers.get("transfer-encoding") == "chunked"  # no length announced: re-chunked for HTTP/1.1
    r = requests.get(gw.url + "/big?bytes=300000", timeout=TIMEOUT)
    assert r.content == b"x" * 300000 and r.headers["content-length"] == "300000"
    r = requests.head(gw.url + "/big?bytes=1234", timeout=TIMEOUT)
    assert r.status_code == 200 and r.headers["content-length"] == "1234" and r.content == b""
    r = requests.get(gw.url + "/status/404", timeout=TIMEOUT)
    assert r.status_code == 404 and r.json()["status"] == 404
    r = requests.get(gw.url + "/status/204", timeout=TIMEOUT)
    assert r.status_code == 204 and r.content == b""
    r = requests.get(gw.url + "/headers?h=X-From-Upstream:yes", timeout=TIMEOUT)
    assert r.headers["x-from-upstream"] == "yes"
    # HTTP/1.0 client: the close delimits a body of unknown length.
    s = connect(gw.port)
    s.sendall(b"GET /chunked?n=3 HTTP/1.0\r\nHost: x\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"chunk-0;chunk-1;chunk-2;")


def test_request_bodies_go_up_whole_with_length_or_chunked(gateway_factory, h2c):
    gw = gateway_for(gateway_factory, h2c)
    small = b"hello h2 upstream"
    big = os.urandom(3 * 1024 * 1024)
    r = requests.post(gw.url + "/echo/len", data=small, timeout=TIMEOUT)
    assert r.json()["bodyLength"] == len(small) and r.json()["method"] == "POST"
    r = requests.put(gw.url + "/echo/big", data=big, timeout=TIMEOUT * 2)
    assert r.json()["bodySha256"] == hashlib.sha256(big).hexdigest()

    def pieces():
        for i in range(0, len(big), 100000):
            yield big[i:i + 100000]

    r = requests.post(gw.url + "/echo/chunked", data=pieces(), timeout=TIMEOUT * 2)
    assert r.json()["bodyLength"] == len(big)
    assert r.json()["bodySha256"] == hashlib.sha256(big).hexdigest()

    def post(i):
        body = os.urandom(1000 + 97 * i)
        got = requests.post(gw.url + "/echo/p%d" % i, data=body, timeout=TIMEOUT).json()
        return got["bodySha256"] == hashlib.sha256(body).hexdigest() and got["path"] == "/echo/p%d" % i

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        assert all(pool.map(post, range(64)))
    methods = {e[2] for e in h2c.entries()}
    assert {"POST", "PUT"} <= methods


def test_a_slow_response_does_not_hold_up_the_streams_beside_it(gateway_factory, h2c):
    gw = gateway_for(gateway_factory, h2c)
    slow = connect(gw.port)
    slow.sendall(b"GET /stall?ms=1500 HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.1)
    started = time.monotonic()
    results = fetch_all(gw, ["/echo/beside/%d" % i for i in range(40)], clients=8)
    took = time.monotonic() - started
    assert all(r.status_code == 200 for _, r in results)
    assert took < 1.2, "requests beside the stalled stream waited for it"
    assert ResponseReader(slow).read().status == 200
    slow.close()
    assert len({e[0] for e in h2c.entries()}) == 1


def test_a_slow_reader_gets_every_byte_while_others_are_served(gateway_factory, h2c):
    gw = gateway_for(gateway_factory, h2c)
    size = 8 * 1024 * 1024
    s = connect(gw.port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.sendall(b"GET /big?bytes=%d HTTP/1.1\r\nHost: x\r\n\r\n" % size)
    received = s.recv(65536)
    # While that client reads nothing, its stream's window closes; the others flow.
    time.sleep(0.5)
    results = fetch_all(gw, ["/echo/meanwhile/%d" % i for i in range(20)], clients=4)
    assert all(r.status_code == 200 for _, r in results)
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    total = len(body)
    while total < size:
        chunk = s.recv(1 << 20)
        assert chunk, "connection closed after %d of %d bytes" % (total, size)
        total += len(chunk)
    s.close()
    assert total == size


def test_a_stalled_stream_times_out_alone(gateway_factory, h2c):
    gw = gateway_for(gateway_factory, h2c, timeoutInMillis=500)
    r = requests.get(gw.url + "/stall?ms=2000", timeout=TIMEOUT)
    assert r.status_code == 504 and r.json() == {"message": "Service Unavailable"}
    assert requests.get(gw.url + "/echo/after", timeout=TIMEOUT).json()["path"] == "/echo/after"
    assert len({e[0] for e in h2c.entries() if e[3] == "/echo/after"}) == 1


def test_clients_leaving_mid_response_cancel_only_their_stream(gateway_factory, h2c):
    gw = gateway_for(gateway_factory, h2c)
    for i in range(5):
        s = connect(gw.port)
        s.sendall(b"GET /big?bytes=5000000&i=%d HTTP/1.1\r\nHost: x\r\n\r\n" % i)
        s.recv(1000)
        s.close()
    results = fetch_all(gw, ["/echo/still/%d" % i for i in range(30)], clients=6)
    assert all(r.status_code == 200 and r.json()["path"] == p for p, r in results)


def test_the_upstream_going_away_fails_in_flight_requests_and_later_ones_reconnect(gateway_factory, h2c, tmp_path):
    gw = gateway_for(gateway_factory, h2c)
    assert requests.get(gw.url + "/echo/before", timeout=TIMEOUT).status_code == 200
    slow = connect(gw.port)
    slow.sendall(b"GET /stall?ms=3000 HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.3)
    h2c.stop(signal.SIGTERM)  # fast shutdown: connections close under in-flight streams
    response = ResponseReader(slow).read()
    slow.close()
    assert response.status == 502
    assert requests.get(gw.url + "/echo/down", timeout=TIMEOUT).status_code in (502, 503)
    h2c.start()
    wait_until(lambda: requests.get(gw.url + "/echo/again", timeout=TIMEOUT).status_code == 200, TIMEOUT,
               message="requests succeed once the upstream is back")


def test_http2_groups_answer_503_when_nothing_listens_and_keep_the_worker_alive(gateway_factory, upstream):
    port = free_port()
    gw = gateway_factory(config([port], groups=[h2_group(port)]), workers=1)
    r = requests.get(gw.url + "/echo/x", timeout=TIMEOUT)
    assert r.status_code in (502, 503), r.status_code
    assert r.json()["message"] in ("Internal Server Error", "Service Unavailable")
    assert gw.proc.poll() is None


@pytest.mark.skipif(shutil.which("h2load") is None, reason="needs h2load (nghttp2-client)")
def test_http2_clients_through_to_an_http2_upstream(gateway_factory, h2c):
    cfg = config([h2c.port], groups=[h2_group(h2c.port)])
    gw = gateway_factory(cfg, workers=1, start=False)
    gw.write_config(dict(cfg, listeners=h2c_listeners(gw)))
    gw.start()
    out = subprocess.run(["h2load", "-n", "600", "-c", "3", "-m", "50", gw.url + "/echo/h2"],
                         capture_output=True, text=True, timeout=60)
    assert "600 succeeded" in out.stdout and "status codes: 600 2xx" in out.stdout, out.stdout
    entries = [e for e in h2c.entries() if e[3] == "/echo/h2"]
    assert len(entries) == 600 and len({e[0] for e in entries}) <= 2


class H2TlsNginx:
    """nginx with a TLS listener that offers h2 (and one that offers only HTTP/1.1), in
    front of an upstream.py, with a certificate from a test CA."""

    def __init__(self, folder, backend_port, cert):
        self.folder = Path(folder)
        self.port = free_port()
        self.http1_port = free_port()
        self.log = self.folder / "access.log"
        self.proc = run_nginx(self.folder, self.log, """
  ssl_certificate %(pem)s;
  ssl_certificate_key %(key)s;
  server {
    listen 127.0.0.1:%(port)d ssl http2;
    location / { proxy_pass http://127.0.0.1:%(backend)d; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
  server {
    listen 127.0.0.1:%(http1)d ssl;
    location / { proxy_pass http://127.0.0.1:%(backend)d; }
  }""" % {"port": self.port, "http1": self.http1_port, "backend": backend_port, "pem": cert.pem, "key": cert.key},
                              [self.port, self.http1_port])

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)
        self.proc.wait(timeout=TIMEOUT)

    def entries(self):
        return log_entries(self.log)


def test_http2_over_tls_to_an_https_group_with_alpn_h2(gateway_factory, upstream, tmp_path):
    from tls_certs import CertMaker
    maker = CertMaker(tmp_path / "pki")
    ca = maker.ca("ca", "/CN=Upstream Test CA")
    cert = maker.server("upstream", ca, "/CN=localhost", dns_names=["localhost"], ips=["127.0.0.1"])
    folder = tmp_path / "h2-tls-nginx"
    folder.mkdir()
    server = H2TlsNginx(folder, upstream.port, cert)
    try:
        tls = {"caBundle": str(ca.pem), "serverName": "localhost"}
        groups = [target_group([server.port], protocol="HTTPS", http2=True, tls=tls),
                  target_group([server.http1_port], name="only-http1", protocol="HTTPS", http2=True, tls=tls)]
        apis = [api(integrations=[integration("pass", "https://backend"), integration("old", "https://only-http1")],
                    routes=[{"routeKey": "$default", "target": "pass"}, {"routeKey": "GET /old/{proxy+}", "target": "old"}])]
        gw = gateway_factory(config([server.port], groups=groups, apis=apis), workers=1)
        results = fetch_all(gw, ["/echo/tls/%d" % i for i in range(60)], clients=10)
        assert all(r.status_code == 200 and r.json()["path"] == p for p, r in results)
        body = os.urandom(200000)
        r = requests.post(gw.url + "/echo/tls-post", data=body, timeout=TIMEOUT)
        assert r.json()["bodySha256"] == hashlib.sha256(body).hexdigest()
        entries = [e for e in server.entries() if e[3].startswith("/echo/tls")]
        assert len(entries) == 61 and {e[1] for e in entries} == {"HTTP/2.0"}
        assert len({e[0] for e in entries}) == 1
        # An upstream that does not offer h2 in ALPN: nothing is sent, the client gets 502.
        r = requests.get(gw.url + "/old/echo", timeout=TIMEOUT)
        assert r.status_code == 502 and r.json() == {"message": "Internal Server Error"}
    finally:
        server.stop()
