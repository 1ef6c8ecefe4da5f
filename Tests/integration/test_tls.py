"""TLS termination on an HTTPS listener: certificates by SNI (exact, wildcard, default), unknown
names, mutual TLS (and that its domain is out of reach without it), protocol versions, ALPN,
keep-alive and large bodies through TLS, certificate reload, and clients that do not speak TLS
or stall the handshake.

Every certificate is made at test time with the openssl CLI (tls_certs.py) under pytest's
tmp folders; nothing secret is committed. Real clients: curl (--http1.1, --http2),
openssl s_client, python's ssl/http.client.

The gateway under test serves these names on one HTTPS listener (`defaultApi: main`):

    a.test.local      own certificate        ""   -> main
    b.test.local      own certificate        "v1" -> main (anything else: 403)
    *.w.test.local    wildcard certificate   ""   -> main
    e.w.test.local    own certificate        ""   -> main (exact beats the wildcard)
    m.test.local      own certificate, mutual TLS (client CA)  ""  -> mtls (maps the subject DN to x-client-dn)
    (no SNI)          the listener's certificate (CN=default.test.local, IP 127.0.0.1)
"""

import hashlib
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import time
from types import SimpleNamespace

import pytest

from conftest import free_port
from helpers import TIMEOUT, api, config, curl, header_values, integration, wait_until
from tls_certs import CertMaker, subject_of

FORBIDDEN = b'{"message":"Forbidden"}'

# RFC 2253 subjects (most significant RDN last), as openssl -nameopt RFC2253 prints them.
A_SUBJECT = "O=Turnpike Tests A,CN=a.test.local"
A_ROTATED_SUBJECT = "O=Turnpike Tests A Rotated,CN=a.test.local"
B_SUBJECT = "O=Turnpike Tests B,CN=b.test.local"
B_ROTATED_SUBJECT = "O=Turnpike Tests B Rotated,CN=b.test.local"
WILD_SUBJECT = "O=Turnpike Tests Wildcard,CN=*.w.test.local"
EXACT_W_SUBJECT = "O=Turnpike Tests Exact,CN=e.w.test.local"
DEFAULT_SUBJECT = "O=Turnpike Tests Default,CN=default.test.local"
M_SUBJECT = "O=Turnpike Tests mTLS,CN=m.test.local"
CLIENT_SUBJECT = "O=Turnpike Clients,OU=Partners,CN=client-a"


# -- certificates -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    m = CertMaker(tmp_path_factory.mktemp("certs"))
    ca = m.ca("test-ca", "/CN=Turnpike Test CA")
    client_ca = m.ca("client-ca", "/CN=Turnpike Test Client CA")
    other_ca = m.ca("other-ca", "/CN=Unrelated CA")
    client_subject = "/CN=client-a/OU=Partners/O=Turnpike Clients"
    return SimpleNamespace(
        ca=ca,
        a=m.server("a", ca, "/CN=a.test.local/O=Turnpike Tests A", ["a.test.local"]),
        a_rotated=m.server("a-rotated", ca, "/CN=a.test.local/O=Turnpike Tests A Rotated", ["a.test.local"]),
        b=m.server("b", ca, "/CN=b.test.local/O=Turnpike Tests B", ["b.test.local"]),
        b_rotated=m.server("b-rotated", ca, "/CN=b.test.local/O=Turnpike Tests B Rotated", ["b.test.local"]),
        wild=m.server("wild", ca, "/CN=*.w.test.local/O=Turnpike Tests Wildcard", ["*.w.test.local"]),
        exact_w=m.server("exact-w", ca, "/CN=e.w.test.local/O=Turnpike Tests Exact", ["e.w.test.local"]),
        default=m.server("default", ca, "/CN=default.test.local/O=Turnpike Tests Default",
                         ["default.test.local"], ["127.0.0.1"]),
        m=m.server("m", ca, "/CN=m.test.local/O=Turnpike Tests mTLS", ["m.test.local"]),
        client_ca=client_ca,
        client=m.client("client", client_ca, client_subject),
        # Same subject as the trusted client, signed by a CA the gateway does not trust.
        other_client=m.client("other-client", other_ca, client_subject),
    )


# -- gateway ------------------------------------------------------------------------------


def tls_config(upstream_port, pki, a=None, b=None):
    """The config above; `a` / `b` replace those domains' certificates (e.g. copies a test rotates)."""
    a, b = a or pki.a, b or pki.b
    mtls_api = api(name="mtls", api_id="mtlsapi01", integrations=[
        integration("pass-dn", "http://backend", requestParameters={
            "overwrite:header.x-client-dn": "$context.identity.clientCert.subjectDN",
        }),
    ], routes=[{"routeKey": "$default", "target": "pass-dn"}])
    root = [{"apiMappingKey": "", "api": "main", "stage": "$default"}]
    return config([upstream_port], apis=[api(), mtls_api], domainNames=[
        {"domainName": "a.test.local", "certificate": a.chain_config(), "apiMappings": root},
        {"domainName": "b.test.local", "certificate": b.chain_config(),
         "apiMappings": [{"apiMappingKey": "v1", "api": "main", "stage": "$default"}]},
        {"domainName": "*.w.test.local", "certificate": pki.wild.chain_config(), "apiMappings": root},
        {"domainName": "e.w.test.local", "certificate": pki.exact_w.chain_config(), "apiMappings": root},
        {"domainName": "m.test.local", "certificate": pki.m.chain_config(),
         "mutualTlsAuthentication": {"truststoreUri": str(pki.client_ca.pem)},
         "apiMappings": [{"apiMappingKey": "", "api": "mtls", "stage": "$default"}]},
    ])


def start_tls_gateway(gateway_factory, cfg, pki, listener_certificate=True, **listener_extra):
    """Starts a gateway whose public listener is HTTPS (gw.port) beside the cleartext admin one."""
    gw = gateway_factory(cfg, start=False)
    public = {"name": "public", "host": "127.0.0.1", "port": gw.port, "protocol": "HTTPS", "defaultApi": "main"}
    if listener_certificate:
        public["certificate"] = pki.default.chain_config()
    public.update(listener_extra)
    cfg = dict(cfg, listeners=[public, {"name": "admin", "host": "127.0.0.1", "port": gw.admin_port, "admin": True}])
    gw.write_config(cfg)
    return gw.start()


@pytest.fixture
def gw(gateway_factory, upstream, pki):
    return start_tls_gateway(gateway_factory, tls_config(upstream.port, pki), pki)


# -- clients ------------------------------------------------------------------------------


def curl_https(gw, pki, name, path, *args, http="--http1.1"):
    """curl -v over TLS to `name` (resolved to 127.0.0.1) trusting the test CA: (status, body, stderr)."""
    return curl("-v", http, "--cacert", str(pki.ca.pem), "--resolve", "%s:%d:127.0.0.1" % (name, gw.port),
                *args, "https://%s:%d%s" % (name, gw.port, path))


def curl_subject(stderr):
    """The server certificate subject from curl -v, normalized to RFC 2253 order ("O=..,CN=..")."""
    match = re.search(r"^\*\s+subject: (.*)$", stderr, re.M)
    assert match, "no subject line in curl -v output:\n" + stderr
    parts = [p.strip() for p in match.group(1).split(";")]
    return ",".join(reversed(parts))


def s_client(port, pki, *args, servername=None, send=b""):
    """openssl s_client to 127.0.0.1:port. Without `send` it hangs up right after the handshake; with
    it, `send` goes out after the handshake and the output is read until the server closes.
    Returns (exit code, output, peer subject or None, protocol or None)."""
    cmd = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-CAfile", str(pki.ca.pem),
           "-nameopt", "RFC2253"]
    if send:
        cmd.append("-ign_eof")
    cmd += ["-servername", servername] if servername else ["-noservername"]
    cmd += list(args)
    out = subprocess.run(cmd, input=send, capture_output=True, timeout=TIMEOUT)
    text = (out.stdout + out.stderr).decode(errors="replace")
    subject = re.search(r"^subject=(.*)$", text, re.M)
    protocol = re.search(r"^New, (TLSv1\.\d), Cipher is", text, re.M)
    return out.returncode, text, subject and subject.group(1).strip(), protocol and protocol.group(1)


def client_context(pki, cert=None):
    ctx = ssl.create_default_context(cafile=str(pki.ca.pem))
    if cert is not None:
        ctx.load_cert_chain(str(cert.pem), str(cert.key))
    return ctx


def open_https(gw, pki, name, cert=None, ctx=None):
    """An http.client keep-alive connection to 127.0.0.1:gw.port with SNI (and Host) `name`."""
    ctx = ctx or client_context(pki, cert)
    conn = http.client.HTTPSConnection(name, gw.port, context=ctx, timeout=TIMEOUT)
    raw = socket.create_connection(("127.0.0.1", gw.port), timeout=TIMEOUT)
    conn.sock = ctx.wrap_socket(raw, server_hostname=name)
    return conn


def peer_subject(conn):
    return subject_of(ssl.DER_cert_to_PEM_cert(conn.sock.getpeercert(binary_form=True)).encode())


def request(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    return r.status, r.read(), r


# TLS alert numbers (RFC 8446 6): what the server must answer when it refuses a handshake.
ALERTS = {"handshake failure": 40, "unknown ca": 48, "protocol version": 70, "unrecognized name": 112,
          "certificate required": 116}


def handshake_refused(output, alert):
    """s_client output shows the server's fatal alert `alert` (e.g. "unrecognized name") and no session."""
    return ("SSL alert number %d" % ALERTS[alert]) in output and "Cipher is (NONE)" in output


# -- certificate selection by SNI ---------------------------------------------------------


def test_curl_http1_1_gets_each_domains_own_certificate_and_the_upstream_answer(gw, pki, upstream):
    status, body, err = curl_https(gw, pki, "a.test.local", "/echo/a")
    assert status == 200, err
    assert curl_subject(err) == A_SUBJECT
    echo = json.loads(body)
    assert echo["path"] == "/echo/a"
    assert "< HTTP/1.1 200" in err

    status, body, err = curl_https(gw, pki, "b.test.local", "/v1/echo/b")
    assert status == 200, err
    assert curl_subject(err) == B_SUBJECT
    assert json.loads(body)["path"] == "/echo/b"
    assert upstream.stats()["requests"] == 2


@pytest.fixture
def gw_h1_only(gateway_factory, upstream, pki):
    return start_tls_gateway(gateway_factory, tls_config(upstream.port, pki), pki, http2=False)


def test_curl_http2_falls_back_to_http1_1_where_the_listener_turns_http2_off(gw_h1_only, pki):
    gw = gw_h1_only
    for name, path, subject in (("a.test.local", "/echo/h2a", A_SUBJECT), ("b.test.local", "/v1/echo/h2b", B_SUBJECT)):
        status, body, err = curl_https(gw, pki, name, path, http="--http2")
        assert status == 200, err
        assert curl_subject(err) == subject
        assert "ALPN: server accepted http/1.1" in err
        assert "< HTTP/1.1 200" in err
        echo = json.loads(body)
        assert echo["path"] == path.removeprefix("/v1")


def test_client_offering_only_h2_to_an_http1_listener_completes_the_handshake_without_alpn(gw_h1_only, pki):
    rc, out, subject, protocol = s_client(gw_h1_only.port, pki, "-alpn", "h2", servername="a.test.local",
                                          send=b"GET /echo/noalpn HTTP/1.1\r\nHost: a.test.local\r\nConnection: close\r\n\r\n")
    assert subject == A_SUBJECT, out
    assert "No ALPN negotiated" in out
    assert "HTTP/1.1 200 OK" in out
    assert '"path": "/echo/noalpn"' in out


def test_domain_path_without_an_api_mapping_is_403_forbidden_over_tls(gw, pki, upstream):
    status, body, err = curl_https(gw, pki, "b.test.local", "/echo/unmapped")
    assert status == 403, err
    assert body == FORBIDDEN
    assert upstream.stats()["requests"] == 0


def test_wildcard_certificate_serves_exactly_one_label_under_it(gw, pki, upstream):
    status, body, err = curl_https(gw, pki, "x.w.test.local", "/echo/wild")
    assert status == 200, err
    assert curl_subject(err) == WILD_SUBJECT
    assert json.loads(body)["path"] == "/echo/wild"

    for name in ("y.x.w.test.local", "w.test.local"):
        rc, out, subject, _ = s_client(gw.port, pki, servername=name)
        assert rc != 0 and subject is None, out
        assert handshake_refused(out, "unrecognized name"), out
        status, _, err = curl_https(gw, pki, name, "/echo/too-deep")
        assert status == 0, err
    assert upstream.stats()["requests"] == 1


def test_exact_name_wins_over_the_wildcard_and_names_match_case_insensitively(gw, pki):
    status, body, err = curl_https(gw, pki, "e.w.test.local", "/echo/exact")
    assert status == 200, err
    assert curl_subject(err) == EXACT_W_SUBJECT
    _, out, subject, _ = s_client(gw.port, pki, servername="E.W.Test.Local")
    assert subject == EXACT_W_SUBJECT, out
    _, out, subject, _ = s_client(gw.port, pki, servername="A.TEST.LOCAL")
    assert subject == A_SUBJECT, out


def test_client_without_sni_gets_the_listeners_default_certificate(gw, pki, upstream):
    # curl sends no SNI for an IP address; the default certificate carries IP:127.0.0.1.
    status, body, err = curl("-v", "--http1.1", "--cacert", str(pki.ca.pem), "https://127.0.0.1:%d/echo/nosni" % gw.port)
    assert status == 200, err
    assert curl_subject(err) == DEFAULT_SUBJECT
    assert json.loads(body)["path"] == "/echo/nosni"
    rc, out, subject, _ = s_client(gw.port, pki)
    assert subject == DEFAULT_SUBJECT, out
    assert "Verify return code: 0 (ok)" in out


def test_unknown_server_name_is_refused_at_the_handshake_by_default(gw, pki, upstream):
    rc, out, subject, _ = s_client(gw.port, pki, servername="unknown.test.local")
    assert rc != 0 and subject is None, out
    assert handshake_refused(out, "unrecognized name"), out
    status, _, err = curl_https(gw, pki, "unknown.test.local", "/echo/unknown")
    assert status == 0, err
    assert upstream.stats()["requests"] == 0
    # The listener still serves known names afterwards.
    assert curl_https(gw, pki, "a.test.local", "/echo/after")[0] == 200


def test_unknown_server_name_gets_the_default_certificate_with_DEFAULT(gateway_factory, upstream, pki):
    gw = start_tls_gateway(gateway_factory, tls_config(upstream.port, pki), pki, unknownServerName="DEFAULT")
    rc, out, subject, _ = s_client(gw.port, pki, servername="unknown.test.local")
    assert rc == 0, out
    assert subject == DEFAULT_SUBJECT, out
    # Known names keep their own certificates.
    _, out, subject, _ = s_client(gw.port, pki, servername="a.test.local")
    assert subject == A_SUBJECT, out


def test_listener_without_a_certificate_refuses_clients_without_sni(gateway_factory, upstream, pki):
    gw = start_tls_gateway(gateway_factory, tls_config(upstream.port, pki), pki, listener_certificate=False)
    rc, out, subject, _ = s_client(gw.port, pki)
    assert rc != 0 and subject is None, out
    assert handshake_refused(out, "unrecognized name"), out
    assert curl_https(gw, pki, "a.test.local", "/echo/sni")[0] == 200


# -- mutual TLS ---------------------------------------------------------------------------


def test_mtls_client_certificate_from_the_truststore_ca_is_accepted_and_its_subject_reaches_the_upstream(gw, pki, upstream):
    status, body, err = curl_https(gw, pki, "m.test.local", "/echo/mtls",
                                   "--cert", str(pki.client.pem), "--key", str(pki.client.key))
    assert status == 200, err
    assert curl_subject(err) == M_SUBJECT
    echo = json.loads(body)
    assert echo["path"] == "/echo/mtls"
    assert header_values(echo, "x-client-dn") == [CLIENT_SUBJECT]


def test_mtls_also_works_over_tls_1_2(gw, pki):
    status, body, err = curl_https(gw, pki, "m.test.local", "/echo/mtls12", "--tlsv1.2", "--tls-max", "1.2",
                                   "--cert", str(pki.client.pem), "--key", str(pki.client.key))
    assert status == 200, err
    assert "SSL connection using TLSv1.2" in err
    assert header_values(json.loads(body), "x-client-dn") == [CLIENT_SUBJECT]


def test_mtls_without_a_client_certificate_fails_the_handshake(gw, pki, upstream):
    status, _, err = curl_https(gw, pki, "m.test.local", "/echo/nocert")
    assert status == 0, err
    assert "alert certificate required" in err, err  # TLS 1.3: the server's certificate_required alert
    rc, out, _, _ = s_client(gw.port, pki, "-tls1_2", servername="m.test.local")
    assert rc != 0 and "alert handshake failure" in out, out
    assert upstream.stats()["requests"] == 0


def test_mtls_client_certificate_from_an_unrelated_ca_fails_the_handshake(gw, pki, upstream):
    status, _, err = curl_https(gw, pki, "m.test.local", "/echo/wrongca",
                                "--cert", str(pki.other_client.pem), "--key", str(pki.other_client.key))
    assert status == 0, err
    assert "alert unknown ca" in err, err
    assert upstream.stats()["requests"] == 0


def test_mtls_domain_cannot_be_reached_through_a_connection_made_for_another_name(gw, pki, upstream):
    # SNI a.test.local (no client certificate asked) but Host: m.test.local must not reach the
    # mutual-TLS api: 421 Misdirected Request (RFC 9110 15.5.20), as nginx answers.
    conn = open_https(gw, pki, "a.test.local")
    try:
        status, body, _ = request(conn, "GET", "/echo/bypass", headers={"Host": "m.test.local"})
    finally:
        conn.close()
    assert status == 421, body
    assert upstream.stats()["requests"] == 0
    # The same through the no-SNI default certificate.
    status, body, err = curl("-v", "--http1.1", "--cacert", str(pki.ca.pem), "-H", "Host: m.test.local",
                             "https://127.0.0.1:%d/echo/bypass-nosni" % gw.port)
    assert status == 421, err
    assert upstream.stats()["requests"] == 0


def test_mtls_domain_is_not_served_on_a_cleartext_listener(gateway_factory, upstream, pki):
    cfg = tls_config(upstream.port, pki)
    gw = gateway_factory(cfg, start=False)
    plain_port = free_port()
    cfg = dict(cfg, listeners=[
        {"name": "public", "host": "127.0.0.1", "port": gw.port, "protocol": "HTTPS", "defaultApi": "main",
         "certificate": pki.default.chain_config()},
        {"name": "plain", "host": "127.0.0.1", "port": plain_port, "defaultApi": "main"},
        {"name": "admin", "host": "127.0.0.1", "port": gw.admin_port, "admin": True},
    ])
    gw.write_config(cfg)
    gw.start()
    # Over cleartext there is no client certificate at all: the mutual-TLS api must stay out of reach.
    status, body, err = curl("-H", "Host: m.test.local", "http://127.0.0.1:%d/echo/cleartext-m" % plain_port)
    assert status == 421, body
    assert upstream.stats()["requests"] == 0
    # Other names still work there.
    status, body, err = curl("-H", "Host: a.test.local", "http://127.0.0.1:%d/echo/cleartext-a" % plain_port)
    assert status == 200, body
    assert json.loads(body)["path"] == "/echo/cleartext-a"


# -- protocol versions --------------------------------------------------------------------


GET_A = b"GET /echo/version HTTP/1.1\r\nHost: a.test.local\r\nConnection: close\r\n\r\n"


def test_tls_1_2_and_1_3_are_accepted_and_tls_1_1_is_refused(gw, pki):
    for flag, version in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
        rc, out, subject, protocol = s_client(gw.port, pki, flag, servername="a.test.local", send=GET_A)
        assert protocol == version, out
        assert subject == A_SUBJECT, out
        assert "HTTP/1.1 200 OK" in out and '"path": "/echo/version"' in out, out
    # The client really offers TLS 1.1 (SECLEVEL=0 lets openssl 3 send it); the server refuses it.
    rc, out, subject, protocol = s_client(gw.port, pki, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0",
                                          servername="a.test.local")
    assert rc != 0 and protocol is None and subject is None, out
    assert handshake_refused(out, "protocol version"), out


def test_minimum_tls_1_3_refuses_tls_1_2(gateway_factory, upstream, pki):
    gw = start_tls_gateway(gateway_factory, tls_config(upstream.port, pki), pki, minimumTlsVersion="TLS_1_3")
    rc, out, subject, protocol = s_client(gw.port, pki, "-tls1_2", servername="a.test.local")
    assert rc != 0 and protocol is None, out
    assert handshake_refused(out, "protocol version"), out
    rc, out, subject, protocol = s_client(gw.port, pki, "-tls1_3", servername="a.test.local", send=GET_A)
    assert protocol == "TLSv1.3" and subject == A_SUBJECT, out
    assert "HTTP/1.1 200 OK" in out, out
    status, _, err = curl_https(gw, pki, "b.test.local", "/v1/echo/x", "--tls-max", "1.2")
    assert status == 0, err


# -- traffic over TLS ---------------------------------------------------------------------


def test_upstream_sees_x_forwarded_proto_https_replacing_the_clients(gw, pki, upstream):
    conn = open_https(gw, pki, "a.test.local")
    try:
        status, body, _ = request(conn, "GET", "/echo/xfp", headers={"X-Forwarded-Proto": "http"})
    finally:
        conn.close()
    assert status == 200, body
    echo = json.loads(body)
    assert header_values(echo, "x-forwarded-proto") == ["https"]
    assert header_values(echo, "x-forwarded-port") == [str(gw.port)]


def test_one_tls_keep_alive_connection_serves_many_requests(gw, pki, upstream):
    conn = open_https(gw, pki, "a.test.local")
    try:
        sock = conn.sock
        for i in range(20):
            status, body, r = request(conn, "POST" if i % 2 else "GET", "/echo/ka/%d" % i,
                                      body=b"y" * i if i % 2 else None)
            assert status == 200, body
            echo = json.loads(body)
            assert echo["path"] == "/echo/ka/%d" % i
            assert echo["bodyLength"] == (i if i % 2 else 0)
            assert not r.will_close
            assert conn.sock is sock, "the client had to reconnect after request %d" % i
        assert peer_subject(conn) == A_SUBJECT
    finally:
        conn.close()
    assert upstream.stats()["requests"] == 20


def test_large_response_and_large_upload_pass_through_tls_intact(gw, pki):
    size = 5 * 1024 * 1024
    conn = open_https(gw, pki, "a.test.local")
    try:
        status, body, _ = request(conn, "GET", "/big?bytes=%d" % size)
        assert status == 200
        assert len(body) == size
        assert hashlib.sha256(body).hexdigest() == hashlib.sha256(b"x" * size).hexdigest()

        upload = os.urandom(size)
        status, body, _ = request(conn, "POST", "/echo/upload", body=upload,
                                  headers={"Content-Type": "application/octet-stream"})
        assert status == 200, body[:200]
        echo = json.loads(body)
        assert echo["bodyLength"] == size
        assert echo["bodySha256"] == hashlib.sha256(upload).hexdigest()
    finally:
        conn.close()
    # The same upload as a chunked body from curl over TLS.
    path = gw.workdir / "upload.bin"
    path.write_bytes(upload)
    status, body, err = curl_https(gw, pki, "b.test.local", "/v1/echo/curl-upload", "-H", "Transfer-Encoding: chunked",
                                   "--data-binary", "@" + str(path))
    assert status == 200, err
    echo = json.loads(body)
    assert echo["bodyLength"] == size
    assert echo["bodySha256"] == hashlib.sha256(upload).hexdigest()


# -- certificate reload -------------------------------------------------------------------


def rotating_gateway(gateway_factory, upstream, pki, tmp_path):
    live = tmp_path / "live-certs"
    a, b = pki.a.copy_to(live, "a"), pki.b.copy_to(live, "b")
    gw = start_tls_gateway(gateway_factory, tls_config(upstream.port, pki, a=a, b=b), pki)
    return gw, a, b


def replace_files(live, new):
    """Puts `new`'s chain and key in place of `live`'s files, each by an atomic rename."""
    for src, dst in ((new.pem, live.pem), (new.key, live.key)):
        tmp = dst.with_suffix(".new")
        tmp.write_bytes(src.read_bytes())
        os.replace(tmp, dst)


def sni_subject(gw, pki, name):
    return s_client(gw.port, pki, servername=name)[2]


def test_admin_reload_rotates_a_certificate_and_open_tls_connections_keep_working(gateway_factory, upstream, pki, tmp_path):
    gw, live_a, _ = rotating_gateway(gateway_factory, upstream, pki, tmp_path)
    old = open_https(gw, pki, "a.test.local")
    try:
        assert request(old, "GET", "/echo/before")[0] == 200
        assert peer_subject(old) == A_SUBJECT
        sock = old.sock

        replace_files(live_a, pki.a_rotated)
        r = gw.reload_admin()
        assert r.status_code == 200, r.text
        assert r.json()["message"] == "reloaded"

        assert sni_subject(gw, pki, "a.test.local") == A_ROTATED_SUBJECT
        status, body, err = curl_https(gw, pki, "a.test.local", "/echo/new-connection")
        assert status == 200, err
        assert curl_subject(err) == A_ROTATED_SUBJECT
        # Other names are unchanged.
        assert sni_subject(gw, pki, "b.test.local") == B_SUBJECT

        # The connection opened before the reload still serves requests, on the old certificate.
        for i in range(3):
            status, body, _ = request(old, "GET", "/echo/after/%d" % i)
            assert status == 200, body
            assert json.loads(body)["path"] == "/echo/after/%d" % i
        assert old.sock is sock
        assert peer_subject(old) == A_SUBJECT
    finally:
        old.close()


def test_sighup_reload_rotates_a_certificate(gateway_factory, upstream, pki, tmp_path):
    gw, _, live_b = rotating_gateway(gateway_factory, upstream, pki, tmp_path)
    assert sni_subject(gw, pki, "b.test.local") == B_SUBJECT
    replace_files(live_b, pki.b_rotated)
    gw.signal(signal.SIGHUP)
    wait_until(lambda: sni_subject(gw, pki, "b.test.local") == B_ROTATED_SUBJECT, 5,
               message="the rotated certificate to be served after SIGHUP")
    assert sni_subject(gw, pki, "a.test.local") == A_SUBJECT


def test_reload_with_a_certificate_that_does_not_load_is_400_and_the_old_one_keeps_serving(gateway_factory, upstream, pki, tmp_path):
    gw, live_a, _ = rotating_gateway(gateway_factory, upstream, pki, tmp_path)
    old = open_https(gw, pki, "a.test.local")
    try:
        assert request(old, "GET", "/echo/before")[0] == 200

        # Not PEM at all.
        live_a.pem.write_text("this is not a certificate\n")
        r = gw.reload_admin()
        assert r.status_code == 400, r.text
        assert r.json()["message"] == "configuration rejected; the previous one keeps serving"
        assert any(str(live_a.pem) in e for e in r.json()["errors"]), r.json()
        assert sni_subject(gw, pki, "a.test.local") == A_SUBJECT
        status, _, err = curl_https(gw, pki, "a.test.local", "/echo/still-old")
        assert status == 200 and curl_subject(err) == A_SUBJECT, err

        # A valid certificate whose key does not match it.
        live_a.pem.write_bytes(pki.a_rotated.pem.read_bytes())
        live_a.key.write_bytes(pki.b.key.read_bytes())
        r = gw.reload_admin()
        assert r.status_code == 400, r.text
        assert r.json()["message"] == "configuration rejected; the previous one keeps serving"
        assert sni_subject(gw, pki, "a.test.local") == A_SUBJECT

        assert request(old, "GET", "/echo/old-connection")[0] == 200
        assert gw.health()["generation"] == 1

        # Fixed files load on the next reload.
        live_a.key.write_bytes(pki.a_rotated.key.read_bytes())
        r = gw.reload_admin()
        assert r.status_code == 200, r.text
        assert sni_subject(gw, pki, "a.test.local") == A_ROTATED_SUBJECT
    finally:
        old.close()


def test_certificate_files_replaced_on_disk_are_served_without_a_reload_signal(gateway_factory, upstream, pki, tmp_path):
    gw, _, live_b = rotating_gateway(gateway_factory, upstream, pki, tmp_path)
    assert sni_subject(gw, pki, "b.test.local") == B_SUBJECT
    replace_files(live_b, pki.b_rotated)
    wait_until(lambda: sni_subject(gw, pki, "b.test.local") == B_ROTATED_SUBJECT, 10,
               message="the rotated certificate to be served after its files changed")
    assert sni_subject(gw, pki, "a.test.local") == A_SUBJECT
    wait_until(lambda: "certificate files changed" in gw.stderr(), 5, message="the change to be logged")
    assert str(live_b.pem) in gw.stderr()


# -- OCSP stapling and session resumption --------------------------------------------------


def test_ocsp_staple_is_sent_to_clients_that_ask_and_only_for_its_certificate(gateway_factory, upstream, pki, tmp_path):
    staple = CertMaker(tmp_path / "ocsp").ocsp_staple(pki.ca, pki.a, "a")
    cfg = tls_config(upstream.port, pki)
    cfg["domainNames"][0]["certificate"]["ocspStaple"] = str(staple)
    gw = start_tls_gateway(gateway_factory, cfg, pki)
    rc, out, subject, _ = s_client(gw.port, pki, "-status", servername="a.test.local")
    assert subject == A_SUBJECT
    assert "OCSP Response Status: successful" in out, out
    assert "Cert Status: good" in out
    # curl checks the staple itself (--cert-status) and accepts it.
    status, _, err = curl_https(gw, pki, "a.test.local", "/echo/stapled", "--cert-status")
    assert status == 200, err
    # b has no staple: nothing is sent, and curl --cert-status refuses.
    rc, out, subject, _ = s_client(gw.port, pki, "-status", servername="b.test.local")
    assert subject == B_SUBJECT and "OCSP response: no response sent" in out
    status, _, err = curl_https(gw, pki, "b.test.local", "/v1/echo/x", "--cert-status")
    assert status != 200


def test_a_staple_that_is_not_an_ocsp_response_refuses_the_start(gateway_factory, upstream, pki, tmp_path):
    bad = tmp_path / "bad.der"
    bad.write_bytes(b"not DER at all")
    cfg = tls_config(upstream.port, pki)
    cfg["domainNames"][0]["certificate"]["ocspStaple"] = str(bad)
    with pytest.raises(AssertionError, match="OCSP staple"):
        start_tls_gateway(gateway_factory, cfg, pki)


@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_sessions_resume_from_tickets(gw, pki, tmp_path, version):
    sess = tmp_path / ("sess%s.pem" % version)
    request = b"GET /echo/resume HTTP/1.1\r\nHost: a.test.local\r\nConnection: close\r\n\r\n"
    rc, out, _, _ = s_client(gw.port, pki, version, "-sess_out", str(sess), servername="a.test.local", send=request)
    assert "New, TLSv1." in out and sess.exists(), out
    rc, out, _, _ = s_client(gw.port, pki, version, "-sess_in", str(sess), servername="a.test.local", send=request)
    assert re.search(r"^Reused, TLSv1\.[23]", out, re.M), out
    assert '"path": "/echo/resume"' in out


# -- clients that do not speak TLS --------------------------------------------------------


def read_until_closed(sock, timeout=5):
    """Everything the peer sends until it closes; None if it is still open after `timeout`."""
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        except socket.timeout:
            return None
        if not chunk:
            return data
        data += chunk
    return None


@pytest.mark.parametrize("garbage", [
    b"\x00\x01\x02\x03 definitely not a ClientHello \xff\xfe" * 40,
    # A well-formed handshake record carrying a ServerHello: not what a server may receive.
    b"\x16\x03\x01\x00\x2a\x02\x00\x00\x26\x03\x03" + b"\x11" * 32 + b"\x00\xc0\x2f\x00",
    b"GET /echo/plain HTTP/1.1\r\nHost: a.test.local\r\n\r\n",
], ids=["random-bytes", "server-hello-from-a-client", "plaintext-http"])
def test_client_sending_garbage_instead_of_a_client_hello_is_dropped_and_the_gateway_keeps_serving(gw, pki, upstream, garbage):
    with socket.create_connection(("127.0.0.1", gw.port), timeout=TIMEOUT) as sock:
        sock.sendall(garbage)
        data = read_until_closed(sock)
    assert data is not None, "the gateway kept a non-TLS connection open"
    assert not data.startswith(b"HTTP/"), data[:100]
    assert data == b"" or data[:1] == b"\x15", "only a TLS alert record may come back: %r" % data[:100]
    assert upstream.stats()["requests"] == 0
    status, body, err = curl_https(gw, pki, "a.test.local", "/echo/after-garbage")
    assert status == 200, err
    assert json.loads(body)["path"] == "/echo/after-garbage"


def test_a_tls_handshake_that_stalls_or_drips_is_closed_after_the_header_timeout(gateway_factory, upstream, pki):
    cfg = tls_config(upstream.port, pki)
    cfg["settings"]["headerTimeoutSeconds"] = 1
    gw = start_tls_gateway(gateway_factory, cfg, pki)
    hello = b"\x16\x03\x01\x02\x00" + b"\x01\x00\x01\xfc\x03\x03" + b"\x22" * 64

    # A ClientHello record header announcing 512 bytes that never come.
    with socket.create_connection(("127.0.0.1", gw.port), timeout=TIMEOUT) as sock:
        sock.sendall(hello[:5])
        started = time.monotonic()
        data = read_until_closed(sock, timeout=4)
        elapsed = time.monotonic() - started
    assert data is not None, "a stalled TLS handshake was still open after 4 s (headerTimeoutSeconds: 1)"
    assert data == b"" or data[:1] == b"\x15", data[:100]
    assert elapsed < 3, elapsed

    # The same ClientHello, one byte every 0.25 s: the handshake as a whole is bounded.
    with socket.create_connection(("127.0.0.1", gw.port), timeout=TIMEOUT) as sock:
        started = time.monotonic()
        closed_after = None
        for byte in hello:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed_after = time.monotonic() - started
                break
            if read_until_closed(sock, timeout=0.25) is not None:
                closed_after = time.monotonic() - started
                break
            if time.monotonic() - started > 4:
                break
    assert closed_after is not None, "a TLS handshake dripping one byte every 0.25 s was still open after 4 s"
    assert closed_after < 3, closed_after
    assert curl_https(gw, pki, "a.test.local", "/echo/after-stall")[0] == 200
