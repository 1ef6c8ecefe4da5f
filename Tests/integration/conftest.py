"""Fixtures that start the real `turnpike` binary and real upstream processes.

TURNPIKE_BIN overrides the binary (default: .build/release/turnpike of this checkout).
Every wait is bounded; teardown SIGTERMs the gateway and expects exit 0.
"""

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from helpers import TIMEOUT, wait_until

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
UPSTREAM_SCRIPT = HERE / "upstream.py"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_accepts(port, timeout=0.2):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def turnpike_bin():
    path = Path(os.environ.get("TURNPIKE_BIN", ROOT / ".build" / "release" / "turnpike"))
    if not path.is_absolute():
        path = ROOT / path
    if not path.exists():
        pytest.fail("turnpike binary not found at %s (build it: swift build -c release, or set TURNPIKE_BIN)" % path)
    return str(path)


# -- upstream -----------------------------------------------------------------------------


class Upstream:
    """One upstream.py process on a fixed loopback port; can be killed and started again."""

    def __init__(self, name, port=None):
        self.name = name
        self.port = port or free_port()
        self.proc = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        assert self.proc is None, "already running"
        deadline = time.monotonic() + TIMEOUT
        while True:  # the port may linger briefly after a kill
            self.proc = subprocess.Popen(
                [sys.executable, str(UPSTREAM_SCRIPT), "--port", str(self.port), "--name", self.name],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            ready, _, _ = select.select([self.proc.stdout], [], [], TIMEOUT)
            line = self.proc.stdout.readline() if ready else b""
            if line.startswith(b"READY"):
                return self
            self.proc.kill()
            self.proc.wait(timeout=TIMEOUT)
            self.proc = None
            if time.monotonic() > deadline:
                raise RuntimeError("upstream %s did not start on port %d" % (self.name, self.port))
            time.sleep(0.1)

    def stop(self):
        """SIGKILL: the process and every connection it holds go at once."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=TIMEOUT)
            self.proc.stdout.close()
            self.proc.stderr.close()
            self.proc = None

    def restart(self):
        self.stop()
        return self.start()

    def get(self, path):
        r = requests.get(self.url + path, timeout=TIMEOUT, headers={"Connection": "close"})
        r.raise_for_status()
        return r.json()

    def post(self, path):
        r = requests.post(self.url + path, timeout=TIMEOUT, headers={"Connection": "close"})
        r.raise_for_status()
        return r.json()

    def stats(self):
        return self.get("/_stats")

    def reset_stats(self):
        self.post("/_stats/reset")

    def recent_requests(self):
        return self.get("/_requests")

    def fail_health(self):
        self.post("/_health/fail")

    def pass_health(self):
        self.post("/_health/ok")


@pytest.fixture
def upstream_factory():
    started = []

    def make(name=None, port=None):
        upstream = Upstream(name or "up%d" % len(started), port).start()
        started.append(upstream)
        return upstream

    yield make
    for upstream in started:
        upstream.stop()


@pytest.fixture
def upstream(upstream_factory):
    return upstream_factory("up0")


# -- gateway ------------------------------------------------------------------------------


class Gateway:
    def __init__(self, binary, workdir, cfg, workers=2, default_api="main"):
        self.binary = binary
        self.workdir = Path(workdir)
        self.port = free_port()
        self.admin_port = free_port()
        self.workers = workers
        self.default_api = default_api
        self.config_path = self.workdir / "turnpike.yaml"
        self.stdout_path = self.workdir / "gateway.stdout"
        self.stderr_path = self.workdir / "gateway.stderr"
        self.proc = None
        self.exit_checked = False
        self.write_config(cfg)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def admin_url(self):
        return "http://127.0.0.1:%d" % self.admin_port

    def full_config(self, cfg):
        cfg = dict(cfg)
        if "listeners" not in cfg:
            public = {"name": "public", "host": "127.0.0.1", "port": self.port}
            if self.default_api:
                public["defaultApi"] = self.default_api
            cfg["listeners"] = [public, {"name": "admin", "host": "127.0.0.1", "port": self.admin_port, "admin": True}]
        return cfg

    def write_config(self, cfg):
        self.config = self.full_config(cfg)
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(yaml.safe_dump(self.config, sort_keys=False))
        os.replace(tmp, self.config_path)

    def write_raw_config(self, text):
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, self.config_path)

    def start(self):
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--config", str(self.config_path), "--workers", str(self.workers)],
            stdout=self._out, stderr=self._err, cwd=str(self.workdir))

        def ready():
            if self.proc.poll() is not None:
                self.exit_checked = True
                raise AssertionError("gateway exited with %s during startup:\n%s" % (self.proc.returncode, self.stderr()))
            try:
                return requests.get(self.admin_url + "/admin/health", timeout=1).status_code == 200 and port_accepts(self.port)
            except requests.RequestException:
                return False

        wait_until(ready, TIMEOUT, message="gateway to answer /admin/health")
        return self

    def stderr(self):
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def stdout(self):
        return self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""

    def health(self):
        r = requests.get(self.admin_url + "/admin/health", timeout=TIMEOUT)
        assert r.status_code == 200, r.text
        return r.json()

    def endpoint_health(self, group="backend"):
        """{"127.0.0.1:PORT": healthy-and-not-ejected} for one target group."""
        for g in self.health()["targetGroups"]:
            if g["name"] == group:
                return {e["endpoint"]: bool(e["healthy"]) and not e["ejected"] for e in g["endpoints"]}
        raise AssertionError("no target group %s in /admin/health" % group)

    def reload_admin(self):
        return requests.post(self.admin_url + "/admin/reload", timeout=TIMEOUT)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def terminate(self, timeout=None):
        """SIGTERM and wait; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout or TIMEOUT)
        finally:
            self._out.close()
            self._err.close()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=TIMEOUT)


@pytest.fixture
def gateway_factory(turnpike_bin, tmp_path):
    started = []

    def make(cfg, workers=2, default_api="main", start=True):
        workdir = tmp_path / ("gw%d" % len(started))
        workdir.mkdir()
        gw = Gateway(turnpike_bin, workdir, cfg, workers=workers, default_api=default_api)
        started.append(gw)
        return gw.start() if start else gw

    yield make
    problems = []
    for gw in started:
        if gw.proc is None:
            continue
        if gw.proc.poll() is None:
            try:
                rc = gw.terminate(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                gw.kill()
                problems.append("gateway did not exit within %ds of SIGTERM" % TIMEOUT)
                continue
            if rc != 0 and not gw.exit_checked:
                problems.append("gateway exited %s after SIGTERM; stderr:\n%s" % (rc, gw.stderr()))
        elif not gw.exit_checked:
            problems.append("gateway died during the test (exit %s); stderr:\n%s" % (gw.proc.returncode, gw.stderr()))
    if problems:
        pytest.fail("\n".join(problems))


def pytest_collection_modifyitems(items):
    # A hard per-test bound without plugins: SIGALRM fires if a test runs away.
    for item in items:
        item.add_marker(pytest.mark.usefixtures("_test_time_limit"))


@pytest.fixture
def _test_time_limit():
    def expired(signum, frame):
        raise TimeoutError("test exceeded its 60 s time limit")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)
