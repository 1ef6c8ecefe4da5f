"""Request bodies through real curl: chunked uploads, Expect: 100-continue, the 10 MB payload limit."""

import hashlib
import json

import pytest

from helpers import ResponseReader, config, connect, curl

TEN_MB = 10 * 1024 * 1024
TOO_LARGE = b'{"message":"Request Entity Too Large"}'


@pytest.fixture
def gw(gateway_factory, upstream):
    return gateway_factory(config([upstream.port]))


@pytest.fixture(scope="module")
def payloads(tmp_path_factory):
    folder = tmp_path_factory.mktemp("payloads")
    files = {}
    for name, size in [("small", 300_000), ("exact", TEN_MB), ("over", TEN_MB + 1)]:
        data = (hashlib.sha256(name.encode()).digest() * (size // 32 + 1))[:size]
        path = folder / name
        path.write_bytes(data)
        files[name] = (str(path), hashlib.sha256(data).hexdigest(), size)
    return files


def test_chunked_upload_via_curl_reaches_upstream_byte_exact(gw, payloads):
    path, digest, size = payloads["small"]
    status, body, err = curl("-X", "POST", "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + path,
                             gw.url + "/echo/upload")
    assert status == 200, err
    echo = json.loads(body)
    assert echo["bodyLength"] == size
    assert echo["bodySha256"] == digest


def test_expect_100_continue_upload_via_curl_gets_continue_then_200(gw, payloads):
    path, digest, size = payloads["small"]
    status, body, err = curl("-v", "-X", "PUT", "-H", "Expect: 100-continue", "--expect100-timeout", "10",
                             "--data-binary", "@" + path, gw.url + "/echo/upload")
    assert status == 200, err
    assert "HTTP/1.1 100 Continue" in err, err
    echo = json.loads(body)
    assert echo["method"] == "PUT"
    assert (echo["bodyLength"], echo["bodySha256"]) == (size, digest)
    assert "expect" not in [k.lower() for k, _ in echo["headers"]]


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_exactly_10_mb_body_passes(gw, payloads, framing):
    path, digest, size = payloads["exact"]
    extra = ["-H", "Transfer-Encoding: chunked"] if framing == "chunked" else []
    status, body, err = curl("-X", "POST", "-H", "Expect:", *extra, "--data-binary", "@" + path,
                             gw.url + "/echo/ten")
    assert status == 200, err
    echo = json.loads(body)
    assert (echo["bodyLength"], echo["bodySha256"]) == (size, digest)


@pytest.mark.parametrize("expect", [True, False], ids=["with-expect", "without-expect"])
def test_10_mb_plus_one_byte_with_content_length_is_413_and_never_reaches_upstream(gw, upstream, payloads, expect):
    path, _, _ = payloads["over"]
    expect_args = ["-H", "Expect: 100-continue", "--expect100-timeout", "10"] if expect else ["-H", "Expect:"]
    status, body, err = curl("-X", "POST", *expect_args, "--data-binary", "@" + path, gw.url + "/echo/over")
    assert status == 413, err
    assert body == TOO_LARGE
    assert upstream.stats()["requests"] == 0


def test_10_mb_plus_one_byte_chunked_is_413(gw, payloads):
    path, _, _ = payloads["over"]
    status, body, err = curl("-X", "POST", "-H", "Expect:", "-H", "Transfer-Encoding: chunked",
                             "--data-binary", "@" + path, gw.url + "/echo/over")
    assert status == 413, err
    assert body == TOO_LARGE


def test_configured_body_limit_applies_to_content_length_and_chunked(gateway_factory, upstream):
    gw = gateway_factory(config([upstream.port], settings={"maxRequestBodyBytes": 1000}))
    with connect(gw.port) as sock:
        reader = ResponseReader(sock)
        sock.sendall(b"POST /echo/fits HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"a" * 1000)
        ok = reader.read()
        assert ok.status == 200
        assert ok.json()["bodyLength"] == 1000
        sock.sendall(b"POST /echo/over HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n")
        over = reader.read()
        assert (over.status, over.body) == (413, TOO_LARGE)
        assert over.header("apigw-requestid")
        assert reader.at_eof(), "a 413 before the body was read must close the connection"
    with connect(gw.port) as sock:
        reader = ResponseReader(sock)
        sock.sendall(b"POST /echo/chunks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     + b"1f4\r\n" + b"b" * 500 + b"\r\n" + b"1f5\r\n" + b"c" * 501 + b"\r\n0\r\n\r\n")
        over = reader.read()
        assert (over.status, over.body) == (413, TOO_LARGE)
    with connect(gw.port) as sock:
        reader = ResponseReader(sock)
        sock.sendall(b"POST /echo/chunks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     + b"1f4\r\n" + b"b" * 500 + b"\r\n" + b"1f4\r\n" + b"c" * 500 + b"\r\n0\r\n\r\n")
        ok = reader.read()
        assert ok.status == 200
        assert ok.json()["bodyLength"] == 1000
    assert upstream.stats()["requests"] == 2
