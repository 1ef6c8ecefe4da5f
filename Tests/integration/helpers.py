"""Shared helpers for the integration tests: config builders, raw-socket HTTP, small waits."""

import concurrent.futures
import copy
import json
import socket
import time

import requests

# Every request the tests make is bounded by this many seconds unless a test says otherwise.
TIMEOUT = 10

API_ID = "itapi01"


def api(name="main", api_id=API_ID, integrations=None, routes=None, stages=None):
    """An HTTP API; by default `$default` → an integration passing the client path to `backend`."""
    return {
        "name": name,
        "apiId": api_id,
        "protocolType": "HTTP",
        "integrations": integrations if integrations is not None else [
            {"name": "pass", "integrationType": "HTTP_PROXY", "integrationUri": "http://backend"},
        ],
        "routes": routes if routes is not None else [{"routeKey": "$default", "target": "pass"}],
        "stages": stages if stages is not None else [{"stageName": "$default"}],
    }


def target_group(ports, name="backend", **extra):
    group = {"name": name, "endpoints": ["127.0.0.1:%d" % p for p in ports]}
    group.update(extra)
    return group


def config(ports, apis=None, settings=None, groups=None, **extra):
    """A whole config (listeners are added by the gateway fixture)."""
    cfg = {
        "settings": {"drainTimeoutSeconds": 5},
        "targetGroups": groups if groups is not None else [target_group(ports)],
        "apis": apis if apis is not None else [api()],
    }
    if settings:
        cfg["settings"].update(settings)
    cfg.update(extra)
    return copy.deepcopy(cfg)


def fetch_all(gw, paths, clients):
    """GETs `paths` through the gateway, split over `clients` keep-alive sessions running at
    once; (path, response) pairs."""
    def run(chunk):
        with requests.Session() as s:
            return [(p, s.get(gw.url + p, timeout=TIMEOUT)) for p in chunk]

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        return [pair for part in pool.map(run, [paths[i::clients] for i in range(clients)]) for pair in part]


def h2c_listeners(gw):
    """The gateway fixture's public and admin listeners, the public one also taking h2c."""
    return [{"name": "public", "host": "127.0.0.1", "port": gw.port, "defaultApi": "main", "http2": True},
            {"name": "admin", "host": "127.0.0.1", "port": gw.admin_port, "admin": True}]


def integration(name, uri, **extra):
    entry = {"name": name, "integrationType": "HTTP_PROXY", "integrationUri": uri}
    entry.update(extra)
    return entry


def header_values(echo, name):
    """All values of header `name` (case-insensitive) in an /echo JSON answer."""
    return [v for k, v in echo["headers"] if k.lower() == name.lower()]


def header_names(echo):
    return [k.lower() for k, _ in echo["headers"]]


# -- raw sockets --------------------------------------------------------------------------


def connect(port, timeout=TIMEOUT):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.settimeout(timeout)
    return sock


class RawResponse:
    def __init__(self, version, status, reason, headers, body):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (lower-cased name, value)
        self.body = body

    def header(self, name):
        values = [v for k, v in self.headers if k == name.lower()]
        return values[0] if values else None

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "RawResponse(%d %r %r %r)" % (self.status, self.reason, self.headers, self.body[:200])


class ResponseReader:
    """Reads HTTP/1.x responses one after another from a socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exactly(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read(self, head_request=False):
        status_line = self._line()
        version, status, reason = (status_line.decode("latin-1").split(" ", 2) + [""])[:3]
        headers = []
        while True:
            line = self._line()
            if not line:
                break
            name, value = line.decode("latin-1").split(":", 1)
            headers.append((name.strip().lower(), value.strip()))
        response = RawResponse(version, int(status), reason, headers, b"")
        if head_request or response.status in (100, 204, 304):
            return response
        te = response.header("transfer-encoding")
        if te and "chunked" in te.lower():
            body = b""
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line():
                        pass
                    break
                body += self._exactly(size)
                self._exactly(2)
            response.body = body
        elif response.header("content-length") is not None:
            response.body = self._exactly(int(response.header("content-length")))
        else:
            while True:
                try:
                    self._fill()
                except EOFError:
                    break
            response.body, self.buf = self.buf, b""
        return response

    def at_eof(self, timeout=3):
        """True when the peer closes (EOF or reset) within `timeout` with nothing more to read."""
        if self.buf:
            return False
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False


def raw_request(port, data, timeout=TIMEOUT):
    """Sends `data` on a new connection and reads one response."""
    with connect(port, timeout) as sock:
        sock.sendall(data)
        return ResponseReader(sock).read()


def wait_until(predicate, timeout, interval=0.05, message="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s (last: %r)" % (timeout, message, last))


def curl(*args, timeout=TIMEOUT * 3):
    """Runs real curl; returns (http status, body bytes, stderr text). -v output lands in stderr."""
    import subprocess
    import tempfile

    with tempfile.NamedTemporaryFile() as body:
        out = subprocess.run(
            ["curl", "-sS", "--max-time", str(timeout), "-o", body.name, "-w", "%{http_code}", *args],
            capture_output=True, timeout=timeout + 5)
        body.seek(0)
        return int(out.stdout.strip() or b"0"), body.read(), out.stderr.decode(errors="replace")
