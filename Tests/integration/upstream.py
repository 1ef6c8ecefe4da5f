"""A real HTTP/1.1 upstream for Turnpike's integration tests.

Run as a process: `python3 upstream.py --port N [--name NAME]`. It prints `READY <port>`
on stdout once listening. Keep-alive works (every response has Content-Length, or is
chunked), and it counts what the tests need to see through the gateway:

  GET  /_stats          {"connections", "accepted", "requests", "healthChecks", "name", "port"}
                        connections: TCP connections that carried at least one request
                        other than /_* (so the test's own /_stats calls do not count);
                        requests: requests other than /_* and /healthz.
  POST /_stats/reset    zero the counters
  GET  /_requests       the last 50 counted requests (method, path, query, headers)
  POST /_health/fail    /healthz answers 500 from now on; POST /_health/ok undoes it

  /echo...              any method: JSON of method, path, raw query, header pairs, body
                        length and sha256 (chunked or Content-Length request bodies)
  /status/NNN           answers status NNN with a small JSON body
  /stall?ms=N           sleeps N ms, then answers 200
  /garbage              writes bytes that are not HTTP, then closes
  /reset                closes the connection with a TCP reset, without answering
  /healthz              200, or 500 while failing
  /headers?h=N:V        answers 200 with the given response header fields added
  /eof-body              a response whose body ends when the connection closes (no length)
  /big?bytes=N          a Content-Length body of N bytes
  /chunked?n=N          a chunked body of N chunks
"""

import argparse
import hashlib
import json
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class State:
    def __init__(self, name, port):
        self.lock = threading.Lock()
        self.name = name
        self.port = port
        self.connections = 0
        self.accepted = 0
        self.requests = 0
        self.health_checks = 0
        self.failing_health = False
        self.recent = []

    def stats(self):
        with self.lock:
            return {
                "name": self.name,
                "port": self.port,
                "connections": self.connections,
                "accepted": self.accepted,
                "requests": self.requests,
                "healthChecks": self.health_checks,
            }

    def reset(self):
        with self.lock:
            self.connections = 0
            self.accepted = 0
            self.requests = 0
            self.health_checks = 0
            self.recent = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "it-upstream"
    sys_version = ""

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.counted_connection = False
        with self.server.state.lock:
            self.server.state.accepted += 1

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass

    # -- request body -----------------------------------------------------------------

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("eof in chunk size")
                size = int(line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while True:  # trailers up to the empty line
                        trailer = self.rfile.readline(65537)
                        if trailer in (b"\r\n", b"\n", b""):
                            break
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # -- responses --------------------------------------------------------------------

    def send_bytes(self, status, body, content_type="application/json", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        # Head and body in one write, as a real server would send them.
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(body)
        self.flush_headers()

    def send_json(self, status, obj, extra=()):
        self.send_bytes(status, json.dumps(obj).encode(), extra=extra)

    # -- dispatch ---------------------------------------------------------------------

    def handle_any(self):
        state = self.server.state
        parts = urlsplit(self.path)
        path, query = parts.path, parts.query
        params = parse_qs(query)
        try:
            body = self.read_body()
        except (ValueError, ConnectionError):
            self.close_connection = True
            return
        internal = path.startswith("/_")
        if path == "/healthz":
            with state.lock:
                state.health_checks += 1
                failing = state.failing_health
            self.send_json(500 if failing else 200, {"healthy": not failing})
            return
        if not internal:
            with state.lock:
                state.requests += 1
                if not self.counted_connection:
                    self.counted_connection = True
                    state.connections += 1
                state.recent.append({
                    "method": self.command,
                    "path": path,
                    "query": query,
                    "headers": [[k, v] for k, v in self.headers.items()],
                })
                del state.recent[:-50]

        if path == "/_stats" and self.command == "GET":
            self.send_json(200, state.stats())
        elif path == "/_stats/reset":
            state.reset()
            self.send_json(200, {"reset": True})
        elif path == "/_requests":
            with state.lock:
                recent = list(state.recent)
            self.send_json(200, recent)
        elif path == "/_health/fail":
            with state.lock:
                state.failing_health = True
            self.send_json(200, {"failing": True})
        elif path == "/_health/ok":
            with state.lock:
                state.failing_health = False
            self.send_json(200, {"failing": False})
        elif path.startswith("/status/"):
            code = int(path[len("/status/"):])
            self.send_json(code, {"status": code, "upstream": state.name})
        elif path == "/stall":
            time.sleep(int(params.get("ms", ["1000"])[0]) / 1000.0)
            self.send_json(200, {"stalled": True, "upstream": state.name})
        elif path == "/garbage":
            self.wfile.write(b"THIS IS NOT HTTP AT ALL\r\n\x00\x01\x02garbage\r\n\r\n")
            self.wfile.flush()
            self.close_connection = True
        elif path == "/reset":
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif path == "/headers":
            extra = [tuple(h.split(":", 1)) for h in params.get("h", [])]
            if any(name.lower() == "connection" and "close" in value.lower() for name, value in extra):
                self.close_connection = True
            self.send_json(200, {"upstream": state.name}, extra=extra)
        elif path == "/eof-body":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nbody-until-close")
            self.wfile.flush()
            self.close_connection = True
        elif path == "/big":
            n = int(params.get("bytes", ["1024"])[0])
            self.send_bytes(200, b"x" * n, content_type="application/octet-stream")
        elif path == "/chunked":
            n = int(params.get("n", ["3"])[0])
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(n):
                data = ("chunk-%d;" % i).encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_json(200, {
                "upstream": state.name,
                "port": state.port,
                "method": self.command,
                "path": path,
                "query": query,
                "headers": [[k, v] for k, v in self.headers.items()],
                "bodyLength": len(body),
                "bodySha256": hashlib.sha256(body).hexdigest(),
                "httpVersion": self.request_version,
            })

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_any

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--name", default="upstream")
    args = parser.parse_args()
    server = Server(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    server.state = State(args.name, port)
    sys.stdout.write("READY %d\n" % port)
    sys.stdout.flush()
    server.serve_forever(poll_interval=0.05)


if __name__ == "__main__":
    main()
