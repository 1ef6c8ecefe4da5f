"""Bodies stream through the gateway: a slow reader of a large response never makes the
gateway buffer it (its memory stays flat), and a large upload flows to the upstream."""

import hashlib
import json
import os
import subprocess
import threading

from helpers import config, curl


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_slow_reader_of_a_large_response_keeps_gateway_memory_bounded(gateway_factory, upstream):
    gw = gateway_factory(config([upstream.port]))
    size = 40 * 1024 * 1024
    before = rss_kib(gw.proc.pid)
    peak = before
    done = threading.Event()
    result = {}

    def download():
        out = subprocess.run(
            ["curl", "-s", "--limit-rate", "8M", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
             f"{gw.url}/big?bytes={size}"],
            capture_output=True, timeout=30)
        result["out"] = out.stdout.decode()
        done.set()

    t = threading.Thread(target=download)
    t.start()
    while not done.wait(0.2):
        peak = max(peak, rss_kib(gw.proc.pid))
    t.join()
    assert result["out"] == f"200 {size}"
    # 40 MB went through a reader 5x slower than the upstream; the gateway held at most a
    # few MB of it (socket buffers and one read buffer per side), never the whole body.
    assert peak - before < 8 * 1024, f"RSS grew by {peak - before} KiB"


def test_large_upload_streams_to_the_upstream_intact(gateway_factory, upstream, tmp_path):
    gw = gateway_factory(config([upstream.port]))
    data = os.urandom(9 * 1024 * 1024)
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    status, body, _ = curl("-X", "PUT", "--data-binary", f"@{path}", "-H", "Content-Type: application/octet-stream",
                           f"{gw.url}/echo/upload")
    assert status == 200
    echo = json.loads(body)
    assert echo["bodyLength"] == len(data)
    assert echo["bodySha256"] == hashlib.sha256(data).hexdigest()
