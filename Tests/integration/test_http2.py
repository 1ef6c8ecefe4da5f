"""HTTP/2 on the gateway: ALPN h2 over TLS for several domains (certificates by SNI), h2c with
prior knowledge on a cleartext listener that enables it, many concurrent streams on one
connection, request bodies up and large bodies down with flow control (a slow reader does not
make the gateway buffer the whole body: its RSS is measured), the SETTINGS it announces, and
the known HTTP/2 attacks (rapid reset, CONTINUATION flood, HPACK bomb, control-frame floods).

Real clients: curl --http2 / --http2-prior-knowledge, nghttp, h2load, openssl s_client, and
python's `h2` library (PyPI) for frame-level attacks that no ordinary client sends.
"""

import hashlib
import json
import os
import re
import socket
import ssl
import subprocess
import threading
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import pytest

from helpers import TIMEOUT, config, curl, wait_until
from test_tls import A_SUBJECT, B_SUBJECT, WILD_SUBJECT, curl_https, curl_subject, pki, s_client, \
    start_tls_gateway, tls_config  # noqa: F401  (pki is a fixture)


@pytest.fixture
def gw(gateway_factory, upstream, pki):  # noqa: F811
    return start_tls_gateway(gateway_factory, tls_config(upstream.port, pki), pki)


def start_h2c_gateway(gateway_factory, upstream, http2=True, settings=None):
    cfg = config([upstream.port])
    if settings:
        cfg["settings"] = dict(cfg.get("settings", {}), **settings)
    gw = gateway_factory(cfg, start=False)
    public = {"name": "public", "host": "127.0.0.1", "port": gw.port, "defaultApi": "main"}
    if http2 is not None:
        public["http2"] = http2
    cfg = dict(cfg, listeners=[public, {"name": "admin", "host": "127.0.0.1", "port": gw.admin_port, "admin": True}])
    gw.write_config(cfg)
    return gw.start()


@pytest.fixture
def h2c(gateway_factory, upstream):
    return start_h2c_gateway(gateway_factory, upstream)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# -- TLS + ALPN ---------------------------------------------------------------------------


def test_curl_http2_negotiates_h2_and_each_domain_keeps_its_certificate(gw, pki):
    for name, subject in (("a.test.local", A_SUBJECT), ("x.w.test.local", WILD_SUBJECT)):
        status, body, err = curl_https(gw, pki, name, "/echo/h2?q=1", http="--http2")
        assert status == 200, err
        assert "ALPN: server accepted h2" in err
        assert "< HTTP/2 200" in err
        assert curl_subject(err) == subject
        echo = json.loads(body)
        assert echo["path"] == "/echo/h2" and echo["query"] == "q=1"
        # The upstream is spoken to in HTTP/1.1 with the :authority as Host.
        assert echo["httpVersion"] == "HTTP/1.1"
        assert ["Host", "backend"] in echo["headers"] or any(k.lower() == "host" for k, _ in echo["headers"])
    status, body, err = curl_https(gw, pki, "b.test.local", "/v1/echo/mapped", http="--http2")
    assert status == 200 and curl_subject(err) == B_SUBJECT
    assert json.loads(body)["path"] == "/echo/mapped"


def test_curl_http1_1_still_gets_http1_1_on_the_same_listener(gw, pki):
    status, _, err = curl_https(gw, pki, "a.test.local", "/echo/h1", http="--http1.1")
    assert status == 200
    assert "ALPN: server accepted http/1.1" in err and "< HTTP/1.1 200" in err


def test_s_client_sees_h2_selected_by_alpn(gw, pki):
    rc, out, _, protocol = s_client(gw.port, pki, "-alpn", "h2,http/1.1", servername="a.test.local")
    assert "ALPN protocol: h2" in out
    assert protocol in ("TLSv1.3", "TLSv1.2")


def test_gateway_errors_come_back_over_h2_with_aws_bodies(gw, pki):
    status, body, err = curl_https(gw, pki, "b.test.local", "/nomapping", http="--http2")
    assert status == 403 and "< HTTP/2 403" in err
    assert body == b'{"message":"Forbidden"}'


def test_nghttp_runs_many_concurrent_streams_on_one_connection(gw, pki):
    url = "https://a.test.local:%d/echo/stream" % gw.port
    # h2load resolves by URL host; give it the IP and the SNI/authority separately.
    out = subprocess.run(
        ["h2load", "-n", "400", "-c", "1", "-m", "100",
         "-H", ":authority: a.test.local", "https://127.0.0.1:%d/echo/stream" % gw.port],
        capture_output=True, text=True, timeout=60)
    assert "400 succeeded, 0 failed" in out.stdout, out.stdout + out.stderr
    assert re.search(r"status codes: 400 2xx", out.stdout), out.stdout
    # nghttp: 50 streams at once, every response complete.
    paths = ["https://127.0.0.1:%d/echo/n%d" % (gw.port, i) for i in range(50)]
    out = subprocess.run(["nghttp", "-n", "-s", "-H", ":authority: a.test.local"] + paths,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert len(re.findall(r"/echo/n\d+", out.stdout)) == 50, out.stdout


# -- h2c ----------------------------------------------------------------------------------


def test_h2c_prior_knowledge_on_a_cleartext_listener_that_enables_it(h2c):
    status, body, err = curl("-v", "--http2-prior-knowledge", "http://127.0.0.1:%d/echo/h2c" % h2c.port)
    assert status == 200, err
    assert "< HTTP/2 200" in err
    assert json.loads(body)["path"] == "/echo/h2c"
    # The same listener still speaks HTTP/1.1.
    status, _, err = curl("-v", "--http1.1", "http://127.0.0.1:%d/echo/h1" % h2c.port)
    assert status == 200 and "< HTTP/1.1 200" in err


def test_h2c_is_refused_where_the_listener_does_not_enable_it(gateway_factory, upstream):
    gw = start_h2c_gateway(gateway_factory, upstream, http2=None)
    status, _, err = curl("-v", "--http2-prior-knowledge", "http://127.0.0.1:%d/echo/x" % gw.port)
    assert status != 200


def test_request_bodies_go_up_through_h2_and_large_bodies_come_down(h2c, tmp_path):
    payload = os.urandom(3 * 1024 * 1024 + 17)
    f = tmp_path / "up.bin"
    f.write_bytes(payload)
    status, body, err = curl("--http2-prior-knowledge", "--data-binary", "@%s" % f,
                             "http://127.0.0.1:%d/echo/upload" % h2c.port)
    assert status == 200, err
    echo = json.loads(body)
    assert echo["bodyLength"] == len(payload)
    assert echo["bodySha256"] == hashlib.sha256(payload).hexdigest()
    # Without content-length the body is forwarded chunked; the upstream still gets every byte.
    status, body, err = curl("--http2-prior-knowledge", "-H", "content-length:", "-H", "transfer-encoding:",
                             "--data-binary", "@%s" % f, "http://127.0.0.1:%d/echo/upload2" % h2c.port)
    assert status == 200 and json.loads(body)["bodyLength"] == len(payload)
    status, body, _ = curl("--http2-prior-knowledge", "http://127.0.0.1:%d/big?bytes=5000000" % h2c.port)
    assert status == 200 and body == b"x" * 5000000
    status, body, _ = curl("--http2-prior-knowledge", "http://127.0.0.1:%d/chunked?n=5" % h2c.port)
    assert status == 200 and body == b"chunk-0;chunk-1;chunk-2;chunk-3;chunk-4;"


def test_a_slow_reader_of_50_mb_over_h2_keeps_gateway_memory_bounded(h2c):
    size = 50 * 1024 * 1024
    pid = h2c.proc.pid
    # Warm the upstream connection pool and the allocator first.
    curl("--http2-prior-knowledge", "http://127.0.0.1:%d/big?bytes=1000" % h2c.port)
    before = rss_kb(pid)
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kb(pid))
            time.sleep(0.05)

    t = threading.Thread(target=sample)
    t.start()
    try:
        out = subprocess.run(
            ["curl", "-s", "--http2-prior-knowledge", "--limit-rate", "12M", "-o", "/dev/null",
             "-w", "%{http_code} %{size_download}", "http://127.0.0.1:%d/big?bytes=%d" % (h2c.port, size)],
            capture_output=True, text=True, timeout=120)
    finally:
        done.set()
        t.join()
    assert out.stdout == "200 %d" % size, out.stdout + out.stderr
    growth_mb = (peak[0] - before) / 1024.0
    print("gateway RSS before %.1f MB, peak %.1f MB, growth %.1f MB for a 50 MB body"
          % (before / 1024.0, peak[0] / 1024.0, growth_mb))
    assert growth_mb < 16, "the gateway buffered the body: RSS grew %.1f MB" % growth_mb


# -- SETTINGS and protections (python h2 as a raw client) ---------------------------------


class RawH2:
    """A frame-level HTTP/2 client over cleartext (h2c prior knowledge)."""

    def __init__(self, port, header_encoding=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=True, header_encoding=header_encoding, validate_outbound_headers=False,
            normalize_outbound_headers=False, validate_inbound_headers=False))
        self.conn.initiate_connection()
        self.flush()
        self.events = []

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def send_raw(self, data):
        self.sock.sendall(data)

    def pump(self, until, timeout=TIMEOUT):
        """Reads and handles frames until until(events) is true or the peer closes; returns closed?"""
        deadline = time.time() + timeout
        self.sock.settimeout(0.5)
        while time.time() < deadline:
            if until(self.events):
                return False
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return True
            if not data:
                return True
            try:
                self.events.extend(self.conn.receive_data(data))
                self.flush()
            except (OSError, h2.exceptions.H2Error):
                return True  # the gateway closed the connection (what a flood test expects)
        return False

    def request(self, path, extra=()):
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, [(":method", "GET"), (":scheme", "http"), (":authority", "localhost"),
                                     (":path", path)] + list(extra), end_stream=True)
        self.flush()
        return sid

    def goaway(self):
        return next((e for e in self.events if isinstance(e, h2.events.ConnectionTerminated)), None)

    def close(self):
        self.sock.close()


def responses(events):
    return {e.stream_id: dict(e.headers) for e in events if isinstance(e, h2.events.ResponseReceived)}


def ended(events):
    return {e.stream_id for e in events if isinstance(e, h2.events.StreamEnded)}


def test_settings_announce_the_configured_limits(gateway_factory, upstream):
    gw = start_h2c_gateway(gateway_factory, upstream, settings={
        "maxHeaderBytes": 16384, "http2": {"maxConcurrentStreams": 50, "initialWindowSize": 131072}})
    c = RawH2(gw.port)
    c.pump(lambda ev: any(isinstance(e, h2.events.RemoteSettingsChanged) for e in ev))
    s = c.conn.remote_settings
    assert s[h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS] == 50
    assert s[h2.settings.SettingCodes.INITIAL_WINDOW_SIZE] == 131072
    assert s[h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE] == 16384
    assert s[h2.settings.SettingCodes.ENABLE_PUSH] == 0
    sid = c.request("/echo/raw")
    c.pump(lambda ev: sid in ended(ev))
    assert responses(c.events)[sid][b":status"] == b"200"
    c.close()


def test_an_oversized_header_list_gets_431_and_the_connection_lives_on(gateway_factory, upstream):
    gw = start_h2c_gateway(gateway_factory, upstream, settings={"maxHeaderBytes": 4096})
    c = RawH2(gw.port)
    big = c.request("/echo/big-headers", extra=[("x-filler-%d" % i, "v" * 200) for i in range(30)])
    c.pump(lambda ev: big in ended(ev))
    assert responses(c.events)[big][b":status"] == b"431"
    ok = c.request("/echo/after")
    c.pump(lambda ev: ok in ended(ev))
    assert responses(c.events)[ok][b":status"] == b"200"
    c.close()


def test_rapid_reset_flood_is_answered_with_goaway_enhance_your_calm(h2c):
    c = RawH2(h2c.port)
    c.pump(lambda ev: any(isinstance(e, h2.events.RemoteSettingsChanged) for e in ev))
    # Open and cancel streams as fast as possible (CVE-2023-44487), a batch at a time.
    closed = False
    try:
        for batch in range(20):
            for _ in range(50):
                sid = c.request("/stall?ms=200")
                c.conn.reset_stream(sid)
            c.flush()
    except (BrokenPipeError, ConnectionResetError):
        closed = True
    c.pump(lambda ev: c.goaway() is not None, timeout=5)
    term = c.goaway()
    assert term is not None or closed
    if term is not None:
        assert term.error_code == h2.errors.ErrorCodes.ENHANCE_YOUR_CALM
    c.close()
    assert_still_serving(h2c)


def test_ping_flood_is_answered_with_goaway(h2c):
    c = RawH2(h2c.port)
    closed = False
    try:
        for i in range(3000):
            c.conn.ping(b"%08d" % i)
            if i % 100 == 99:
                c.flush()
        c.flush()
    except (BrokenPipeError, ConnectionResetError):
        closed = True
    closed = c.pump(lambda ev: c.goaway() is not None, timeout=5) or closed
    assert c.goaway() is not None or closed
    if c.goaway() is not None:
        assert c.goaway().error_code == h2.errors.ErrorCodes.ENHANCE_YOUR_CALM
    c.close()


def assert_still_serving(gw):
    """Other clients are unaffected by the connection that was cut."""
    status, _, _ = curl("--http2-prior-knowledge", "http://127.0.0.1:%d/echo/alive" % gw.port)
    assert status == 200


def frame(ftype, flags, stream_id, payload):
    return len(payload).to_bytes(3, "big") + bytes([ftype, flags]) + stream_id.to_bytes(4, "big") + payload


def raw_connection(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0, b""))
    return s


def closes_within(sock, seconds):
    """True when the peer closes the connection (EOF or reset) within `seconds`."""
    sock.settimeout(0.5)
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True
        if not data:
            return True
    return False


def test_continuation_flood_closes_the_connection(h2c):
    s = raw_connection(h2c.port)
    # HEADERS without END_HEADERS, then endless CONTINUATION frames of junk-but-valid literals.
    literal = b"\x40\x05x-pad\x0a" + b"a" * 10   # literal with incremental indexing, name "x-pad"
    s.sendall(frame(1, 0x4 & 0, 1, b"\x82\x84\x86" + literal))
    closed = False
    try:
        for _ in range(2000):
            s.sendall(frame(9, 0, 1, literal * 20))
    except (BrokenPipeError, ConnectionResetError):
        closed = True
    assert closed or closes_within(s, 5)
    s.close()
    assert_still_serving(h2c)


def test_hpack_bomb_closes_the_connection(h2c):
    s = raw_connection(h2c.port)
    # One 4000-byte header put in the dynamic table, then referenced thousands of times:
    # a few bytes on the wire, megabytes decoded.
    big = b"\x40\x05x-big\x7f" + bytes([0x80 | ((4000 - 127) & 0x7f), (4000 - 127) >> 7]) + b"b" * 4000
    block = b"\x82\x84\x86\x41\x09localhost" + big + b"\xbe" * 3000   # 0xbe: dynamic index 62
    closed = False
    try:
        s.sendall(frame(1, 0x4 | 0x1, 1, block[:16000]))
    except (BrokenPipeError, ConnectionResetError):
        closed = True
    assert closed or closes_within(s, 5)
    s.close()
    assert_still_serving(h2c)


def test_access_log_records_http2_as_the_protocol(gateway_factory, upstream, tmp_path):
    log = tmp_path / "access.log"
    gw = start_h2c_gateway(gateway_factory, upstream, settings={
        "accessLog": {"enabled": True, "destination": "file://%s" % log, "format": "$context.protocol $context.status"}})
    curl("--http2-prior-knowledge", "http://127.0.0.1:%d/echo/logged" % gw.port)
    curl("--http1.1", "http://127.0.0.1:%d/echo/logged" % gw.port)
    wait_until(lambda: log.exists() and len(log.read_text().splitlines()) >= 2, TIMEOUT)
    lines = log.read_text().splitlines()
    assert "HTTP/2.0 200" in lines and "HTTP/1.1 200" in lines


# -- Lambda over HTTP/2 ------------------------------------------------------------------


def test_a_lambda_integration_over_h2_gets_the_whole_body_and_protocol_http2(gateway_factory, tmp_path):
    pytest.importorskip("awslambdaric")
    from test_lambda import function, lambda_config, lambda_integration
    cfg = lambda_config([function("echo", "echo")], [{"routeKey": "ANY /v2/{proxy+}", "target": "echo2"}],
                        [lambda_integration("echo2", "echo")])
    gw = gateway_factory(cfg, start=False)
    public = {"name": "public", "host": "127.0.0.1", "port": gw.port, "defaultApi": "main", "http2": True}
    gw.write_config(dict(cfg, listeners=[public, {"name": "admin", "host": "127.0.0.1", "port": gw.admin_port,
                                                  "admin": True}]))
    gw.start()
    body = tmp_path / "body.json"
    body.write_bytes(b'{"k": "' + b"v" * 200000 + b'"}')
    status, out, err = curl("--http2-prior-knowledge", "--data-binary", "@%s" % body, "-H", "content-type: application/json",
                            "http://127.0.0.1:%d/prod/v2/h2?x=1" % gw.port)
    assert status == 200, err
    event = json.loads(out)["event"]
    assert event["requestContext"]["http"]["protocol"] == "HTTP/2.0"
    assert event["rawPath"] == "/prod/v2/h2" and event["rawQueryString"] == "x=1"
    assert event["body"] == body.read_text()
    assert event["headers"]["host"] == "127.0.0.1:%d" % gw.port


def test_a_lambda_body_that_never_completes_over_h2_resets_only_its_stream(gateway_factory):
    pytest.importorskip("awslambdaric")
    from test_lambda import function, lambda_config, lambda_integration
    cfg = lambda_config([function("echo", "echo")], [{"routeKey": "ANY /echo", "target": "echo"}],
                        [lambda_integration("echo", "echo")])
    cfg["settings"]["headerTimeoutSeconds"] = 1
    gw = gateway_factory(cfg, start=False)
    public = {"name": "public", "host": "127.0.0.1", "port": gw.port, "defaultApi": "main", "http2": True}
    gw.write_config(dict(cfg, listeners=[public, {"name": "admin", "host": "127.0.0.1", "port": gw.admin_port,
                                                  "admin": True}]))
    gw.start()
    c = RawH2(gw.port)
    slow = c.conn.get_next_available_stream_id()
    c.conn.send_headers(slow, [(":method", "POST"), (":scheme", "http"), (":authority", "localhost"),
                               (":path", "/echo"), ("content-length", "100")])
    c.conn.send_data(slow, b"partial")
    c.flush()
    t0 = time.time()
    c.pump(lambda ev: any(isinstance(e, h2.events.StreamReset) and e.stream_id == slow for e in ev), timeout=8)
    assert any(isinstance(e, h2.events.StreamReset) and e.stream_id == slow for e in c.events)
    assert time.time() - t0 < 5
    # The connection itself serves on.
    ok = c.request("/echo")
    c.pump(lambda ev: ok in ended(ev))
    assert responses(c.events)[ok][b":status"] == b"200"
    c.close()
