"""turnpike-bench, the bundled load generator, against real servers on loopback: the Python
upstream (which counts what it receives), nginx (HTTP/1.1, and HTTP/2 over TLS), and the
turnpike binary itself. Every run is bounded by a request count or a short duration."""

import json
import os
import pwd
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import free_port, port_accepts
from helpers import TIMEOUT, api, config, integration, wait_until
from tls_certs import CertMaker

BODY = '{"id":42,"name":"turnpike","ok":true}'
ERROR_KINDS = {"connect", "tls", "read", "write", "timeout", "protocol"}


@pytest.fixture(scope="session")
def bench_bin(turnpike_bin):
    path = Path(os.environ.get("TURNPIKE_BENCH_BIN", Path(turnpike_bin).with_name("turnpike-bench")))
    if not path.exists():
        pytest.fail("turnpike-bench not found at %s (swift build -c release)" % path)
    return str(path)


def bench(binary, *args, timeout=40, prefix=()):
    out = subprocess.run([binary, *prefix, *args, "--json"], capture_output=True, timeout=timeout)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    return json.loads(out.stdout)


class Nginx:
    """nginx with a cleartext HTTP/1.1 listener and a TLS listener with HTTP/2."""

    def __init__(self, folder, cert, keepalive_requests=1000000):
        self.folder = Path(folder)
        self.port = free_port()
        self.tls_port = free_port()
        (self.folder / "big.bin").write_bytes(b"x" * 16384)
        conf = self.folder / "nginx.conf"
        # pytest's folders are private to their owner: nginx's workers must run as that owner
        user = "user %s;" % pwd.getpwuid(os.geteuid()).pw_name if os.geteuid() == 0 else ""
        conf.write_text("""
%(user)s
worker_processes 1;
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests %(keepalive)d;
  server {
    listen 127.0.0.1:%(port)d;
    listen 127.0.0.1:%(tls)d ssl http2;
    ssl_certificate %(pem)s;
    ssl_certificate_key %(key)s;
    location / { default_type application/json; return 200 '%(body)s'; }
    location /teapot { return 418; }
    location /big { alias %(dir)s/big.bin; }
  }
}
""" % {"dir": self.folder, "port": self.port, "tls": self.tls_port, "pem": cert.pem, "key": cert.key, "body": BODY, "user": user, "keepalive": keepalive_requests})
        subprocess.run(["nginx", "-p", str(self.folder), "-c", str(conf), "-e", str(self.folder / "error.log")],
                       check=True, timeout=TIMEOUT)
        wait_until(lambda: port_accepts(self.port) and port_accepts(self.tls_port), TIMEOUT, message="nginx listening")

    def stop(self):
        pid_file = self.folder / "nginx.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text())
            os.kill(pid, signal.SIGQUIT)
            wait_until(lambda: not port_accepts(self.port), TIMEOUT, message="nginx stopped")


@pytest.fixture(scope="module")
def tls_ca(tmp_path_factory):
    maker = CertMaker(tmp_path_factory.mktemp("bench-certs"))
    ca = maker.ca("ca", "/CN=Bench Test CA")
    server = maker.server("server", ca, "/CN=localhost", dns_names=["localhost"], ips=["127.0.0.1"])
    return ca, server


@pytest.fixture(scope="module")
def nginx(tmp_path_factory, tls_ca):
    server = Nginx(tmp_path_factory.mktemp("bench-nginx"), tls_ca[1])
    yield server
    server.stop()


def test_closed_loop_makes_exactly_the_requested_count(bench_bin, upstream):
    upstream.reset_stats()
    report = bench(bench_bin, "-c", "4", "-t", "2", "-n", "300", upstream.url + "/echo")
    assert report["requests"] == 300
    assert report["responses"] == 300
    assert report["status"] == {"200": 300}
    assert report["errors_total"] == 0
    assert upstream.stats()["requests"] == 300
    assert upstream.stats()["connections"] <= 4


def test_json_report_has_the_documented_fields(bench_bin, nginx):
    report = bench(bench_bin, "-c", "2", "-n", "200", "http://127.0.0.1:%d/" % nginx.port)
    for field in ["urls", "protocol", "tls", "mode", "target_rate", "connections", "threads", "streams", "pipeline",
                  "warmup_s", "duration_s", "requests", "responses", "requests_per_s", "bytes", "bytes_per_s",
                  "status", "errors", "errors_total", "latency_us", "connects", "backlog_max"]:
        assert field in report, field
    assert set(report["errors"]) == ERROR_KINDS
    assert set(report["latency_us"]) == {"p50", "p90", "p99", "p99_9", "max", "mean"}
    lat = report["latency_us"]
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99_9"] <= lat["max"]
    assert report["protocol"] == "http/1.1" and report["mode"] == "closed"
    assert report["status"] == {"200": 200}
    # every response carries the same head and body: bytes are a whole multiple of one response
    assert report["bytes"] % 200 == 0 and report["bytes"] // 200 > len(BODY)
    assert report["requests_per_s"] > 0


def test_status_codes_of_a_weighted_mix_are_counted_per_code(bench_bin, upstream, tmp_path):
    mix = tmp_path / "mix.txt"
    mix.write_text("# weight method url\n3 GET %s/echo\n1 %s/status/429\n1 POST %s/status/201\n"
                   % (upstream.url, upstream.url, upstream.url))
    upstream.reset_stats()
    report = bench(bench_bin, "-c", "3", "-n", "500", "--url-file", str(mix))
    status = report["status"]
    assert sum(status.values()) == 500
    assert set(status) == {"200", "429", "201"}
    assert status["200"] > status["429"] and status["200"] > status["201"]
    assert upstream.stats()["requests"] == 500
    methods = {r["method"] for r in upstream.recent_requests()}
    assert "POST" in methods and "GET" in methods


def test_method_headers_and_body_from_flags_and_files(bench_bin, upstream, tmp_path):
    headers = tmp_path / "headers.txt"
    headers.write_text("x-from-file: yes\n")
    body = tmp_path / "body.json"
    body.write_bytes(b'{"hello":"world"}')
    upstream.reset_stats()
    report = bench(bench_bin, "-c", "1", "-n", "5", "-X", "PUT", "-H", "x-flag: 1", "--header-file", str(headers),
                   "--body-file", str(body), upstream.url + "/echo")
    assert report["status"] == {"200": 5}
    last = upstream.recent_requests()[-1]
    assert last["method"] == "PUT"
    names = {k.lower(): v for k, v in last["headers"]}
    assert names["x-flag"] == "1" and names["x-from-file"] == "yes"
    assert names["content-length"] == str(len(b'{"hello":"world"}'))


def test_each_connection_sends_its_own_varied_header(bench_bin, upstream, tmp_path):
    keys = tmp_path / "keys.txt"
    keys.write_text("key-aaaa\nkey-bbbb\nkey-cccc\n")
    upstream.reset_stats()
    bench(bench_bin, "-c", "3", "-n", "30", "--vary-header", "x-api-key", "--vary-file", str(keys), upstream.url + "/echo")
    seen = {v for r in upstream.recent_requests() for k, v in r["headers"] if k.lower() == "x-api-key"}
    assert seen == {"key-aaaa", "key-bbbb", "key-cccc"}


def test_pipelined_requests_and_chunked_bodies_are_all_answered(bench_bin, upstream):
    upstream.reset_stats()
    report = bench(bench_bin, "-c", "2", "-p", "4", "-n", "200", upstream.url + "/chunked?n=3")
    assert report["status"] == {"200": 200}
    assert report["errors_total"] == 0
    assert upstream.stats()["requests"] == 200


def test_warm_up_requests_are_not_counted(bench_bin, upstream):
    upstream.reset_stats()
    report = bench(bench_bin, "-c", "2", "-n", "50", "--warmup", "300ms", upstream.url + "/echo")
    assert report["requests"] == 50
    assert upstream.stats()["requests"] > 50


def test_open_loop_holds_the_requested_rate(bench_bin, nginx):
    report = bench(bench_bin, "-c", "8", "-t", "2", "-R", "400", "-d", "2s", "--warmup", "500ms",
                   "http://127.0.0.1:%d/" % nginx.port)
    assert report["mode"] == "open" and report["target_rate"] == 400
    assert report["errors_total"] == 0
    # 800 scheduled in the 2 s window; a loaded machine may leave a few still queued at the end
    assert 720 <= report["responses"] <= 801
    assert 360 <= report["requests_per_s"] <= 401


def test_open_loop_latency_counts_the_wait_a_slow_server_causes(bench_bin, upstream):
    # One connection, a server taking 50 ms a request (20/s), 40 requests/s asked: request k is
    # due at 25k ms and done at 50(k+1) ms, so its latency from the intended time grows by 25 ms
    # a request (coordinated omission would show a flat 50 ms). Closed loop sees the flat 50 ms.
    url = upstream.url + "/stall?ms=50"
    open_loop = bench(bench_bin, "-c", "1", "-R", "40", "-d", "1s", url)
    closed = bench(bench_bin, "-c", "1", "-d", "1s", url)
    assert open_loop["errors_total"] == 0 and closed["errors_total"] == 0
    assert open_loop["latency_us"]["p99"] >= 300_000
    assert open_loop["backlog_max"] >= 10
    assert closed["latency_us"]["p50"] < 300_000


def test_a_duration_run_ends_on_time(bench_bin, nginx):
    started = time.monotonic()
    report = bench(bench_bin, "-c", "4", "-d", "1s", "http://127.0.0.1:%d/big" % nginx.port)
    assert time.monotonic() - started < 10
    assert 0.9 <= report["duration_s"] <= 1.1
    assert report["responses"] > 0 and report["errors_total"] == 0
    assert report["status"] == {"200": report["responses"]}
    assert report["bytes"] >= report["responses"] * 16384


def test_http2_over_tls_against_nginx(bench_bin, nginx):
    report = bench(bench_bin, "--h2", "-m", "8", "-c", "2", "-n", "1000", "--insecure",
                   "https://127.0.0.1:%d/" % nginx.tls_port)
    assert report["protocol"] == "h2" and report["tls"] is True
    assert report["status"] == {"200": 1000}
    assert report["errors_total"] == 0
    assert report["connects"] == 2


def test_http2_statuses_and_bodies(bench_bin, nginx, tmp_path):
    mix = tmp_path / "mix.txt"
    mix.write_text("https://localhost:%d/teapot\nhttps://localhost:%d/big\n" % (nginx.tls_port, nginx.tls_port))
    report = bench(bench_bin, "--h2", "-m", "4", "-c", "1", "-n", "100", "-k", "--url-file", str(mix))
    assert sum(report["status"].values()) == 100
    assert set(report["status"]) <= {"418", "200"}
    assert report["errors_total"] == 0


def test_requests_a_closing_server_never_served_are_sent_again(bench_bin, tmp_path, tls_ca):
    # nginx ends a connection after 20 requests: HTTP/2 with GOAWAY (later streams refused),
    # HTTP/1.1 with Connection: close (later pipelined requests unanswered). Neither is an error.
    server = Nginx(tmp_path, tls_ca[1], keepalive_requests=20)
    try:
        h2 = bench(bench_bin, "--h2", "-m", "8", "-c", "2", "-n", "400", "-k", "https://127.0.0.1:%d/" % server.tls_port)
        assert h2["status"] == {"200": 400} and h2["errors_total"] == 0
        assert h2["connects"] >= 20
        h1 = bench(bench_bin, "-p", "4", "-c", "2", "-n", "400", "http://127.0.0.1:%d/" % server.port)
        assert h1["status"] == {"200": 400} and h1["errors_total"] == 0
        assert h1["connects"] >= 20
    finally:
        server.stop()


def test_tls_certificate_is_verified_unless_insecure(bench_bin, nginx, tls_ca):
    ca, _ = tls_ca
    url = "https://localhost:%d/" % nginx.tls_port
    ok = bench(bench_bin, "-c", "1", "-n", "20", "--cacert", str(ca.pem), url)
    assert ok["status"] == {"200": 20}
    refused = bench(bench_bin, "-c", "1", "-n", "3", url)
    assert refused["errors"]["tls"] == 3 and refused["responses"] == 0
    insecure = bench(bench_bin, "-c", "1", "-n", "3", "-k", url)
    assert insecure["status"] == {"200": 3}


def test_errors_are_counted_by_kind(bench_bin, upstream):
    closed = free_port()
    refused = bench(bench_bin, "-c", "2", "-n", "10", "http://127.0.0.1:%d/" % closed)
    assert refused["errors"]["connect"] == 10
    assert refused["requests"] == 10 and refused["responses"] == 0
    garbage = bench(bench_bin, "-c", "1", "-n", "3", upstream.url + "/garbage")
    assert garbage["errors"]["protocol"] + garbage["errors"]["read"] == 3
    assert garbage["errors"]["protocol"] >= 1
    stalled = bench(bench_bin, "-c", "1", "-n", "2", "--timeout", "200ms", upstream.url + "/stall?ms=2000")
    assert stalled["errors"]["timeout"] == 2


def test_turnpike_bench_subcommand_through_the_gateway(turnpike_bin, upstream, gateway_factory):
    gw = gateway_factory(config([upstream.port], apis=[api(
        integrations=[integration("up", "http://backend")],
        routes=[{"routeKey": "$default", "target": "up"}])],
        settings={"throttle": {"burstLimit": 1000000, "rateLimit": 1000000}}))
    upstream.reset_stats()
    report = bench(turnpike_bin, "-c", "4", "-n", "400", gw.url + "/echo", prefix=("bench",))
    assert report["status"] == {"200": 400}
    assert upstream.stats()["requests"] == 400
