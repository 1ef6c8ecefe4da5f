"""Helpers for the access-control integration tests: signing keys and JWTs minted with
`cryptography` (JWS assembled by hand), a real JWKS / OpenID discovery HTTP server on a
loopback port whose key set a test can change, and a keep-alive request loop for counting
what a throttle admits.
"""

import base64
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from helpers import TIMEOUT, ResponseReader, connect


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_bytes(n, size=None):
    size = size or (n.bit_length() + 7) // 8
    return n.to_bytes(size, "big")


# -- keys ---------------------------------------------------------------------------------

_HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
_CURVES = {"ES256": (ec.SECP256R1, "P-256", 32), "ES384": (ec.SECP384R1, "P-384", 48)}
_RSA_CACHE = {}


class SigningKey:
    """One private key with a kid; `alg` is the JWS algorithm its tokens use."""

    def __init__(self, kid, alg):
        self.kid = kid
        self.alg = alg
        if alg[:2] in ("RS", "PS"):
            # RSA key generation is the slow part; reuse one key per kid.
            if kid not in _RSA_CACHE:
                _RSA_CACHE[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.private = _RSA_CACHE[kid]
        elif alg in _CURVES:
            self.private = ec.generate_private_key(_CURVES[alg][0]())
        elif alg == "EdDSA":
            self.private = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ValueError(alg)

    def jwk(self):
        """The public JWK, with `kid`, `use: sig` and `alg`."""
        public = self.private.public_key()
        if self.alg[:2] in ("RS", "PS"):
            numbers = public.public_numbers()
            key = {"kty": "RSA", "n": b64url(_int_bytes(numbers.n)), "e": b64url(_int_bytes(numbers.e))}
        elif self.alg in _CURVES:
            _, crv, size = _CURVES[self.alg]
            numbers = public.public_numbers()
            key = {"kty": "EC", "crv": crv, "x": b64url(_int_bytes(numbers.x, size)), "y": b64url(_int_bytes(numbers.y, size))}
        else:
            from cryptography.hazmat.primitives import serialization
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            key = {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw)}
        key.update({"kid": self.kid, "use": "sig", "alg": self.alg})
        return key

    def sign(self, message):
        alg = self.alg
        if alg.startswith("RS"):
            return self.private.sign(message, padding.PKCS1v15(), _HASHES[alg[2:]]())
        if alg.startswith("PS"):
            digest = _HASHES[alg[2:]]()
            return self.private.sign(message, padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size), digest)
        if alg in _CURVES:
            _, _, size = _CURVES[alg]
            der = self.private.sign(message, ec.ECDSA(_HASHES[alg[2:]]()))
            r, s = decode_dss_signature(der)
            return _int_bytes(r, size) + _int_bytes(s, size)  # JWS wants raw r || s
        return self.private.sign(message)

    def token(self, claims, header_extra=None, kid=True):
        header = {"alg": self.alg, "typ": "JWT"}
        if kid:
            header["kid"] = self.kid
        header.update(header_extra or {})
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "."
                         + b64url(json.dumps(claims, separators=(",", ":")).encode()))
        return signing_input + "." + b64url(self.sign(signing_input.encode("ascii")))


def claims(issuer, audience="turnpike-tests", lifetime=300, **extra):
    """A claim set valid now for `lifetime` seconds; keyword arguments add or replace claims
    (None removes one)."""
    now = int(time.time())
    out = {"iss": issuer, "sub": "user-1234", "aud": audience, "iat": now, "exp": now + lifetime}
    out.update(extra)
    return {k: v for k, v in out.items() if v is not None}


# -- a real JWKS server ---------------------------------------------------------------------


class _JWKSHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass

    def do_GET(self):
        server = self.server.owner
        with server.lock:
            server.hits[self.path] = server.hits.get(self.path, 0) + 1
            if not server.available:
                server.hits["refused"] = server.hits.get("refused", 0) + 1
                body, status = b"", 503
            elif self.path == "/jwks.json":
                body, status = json.dumps({"keys": [k.jwk() for k in server.keys]}).encode(), 200
            elif self.path == "/.well-known/openid-configuration":
                body, status = json.dumps({"issuer": server.url, "jwks_uri": server.url + "/jwks.json"}).encode(), 200
            else:
                body, status = b"", 404
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if server.chunk_size and body:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), server.chunk_size):
                piece = body[i:i + server.chunk_size]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


class JWKSServer:
    """Serves /jwks.json (the current `keys`) and /.well-known/openid-configuration (issuer =
    this server's URL) on a free loopback port from a thread; counts GETs per path.
    With `available` False every GET answers 503; with `chunk_size` bodies are chunked."""

    def __init__(self, keys=()):
        self.lock = threading.Lock()
        self.keys = list(keys)
        self.hits = {}
        self.available = True  # False: every GET answers 503 (counted as "refused")
        self.chunk_size = 0  # > 0: bodies are sent chunked, in pieces of this many bytes
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _JWKSHandler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def jwks_url(self):
        return self.url + "/jwks.json"

    def set_keys(self, keys):
        with self.lock:
            self.keys = list(keys)

    def count(self, path="/jwks.json"):
        with self.lock:
            return self.hits.get(path, 0)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=TIMEOUT)


# -- requests on one keep-alive connection --------------------------------------------------


class KeepAliveClient:
    """Sequential requests on one keep-alive connection, optionally from a chosen loopback
    source address (127.0.0.0/8 is all local on Linux, so 127.0.0.2 is another client IP)."""

    def __init__(self, port, source_ip=None):
        if source_ip:
            self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT, source_address=(source_ip, 0))
        else:
            self.sock = connect(port)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = ResponseReader(self.sock)

    def get(self, path, headers=None):
        lines = ["GET %s HTTP/1.1" % path, "Host: turnpike.test"]
        lines += ["%s: %s" % kv for kv in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        return self.reader.read()

    def burst(self, path, n, headers=None):
        """Sends `n` requests as fast as one connection allows; returns their responses."""
        return [self.get(path, headers) for _ in range(n)]

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def statuses(responses):
    return [r.status for r in responses]
