"""Hot reload (SIGHUP and POST /admin/reload) and SIGTERM drain, with traffic in flight."""

import signal
import socket
import threading
import time

import requests

from helpers import TIMEOUT, api, config, integration, wait_until


def get(gw, path, session=None, **kw):
    kw.setdefault("timeout", TIMEOUT)
    return (session or requests).get(gw.url + path, **kw)


def config_with_routes(port, extra_routes):
    integrations = [integration("pass", "http://backend")]
    routes = [{"routeKey": "$default", "target": "pass"}]
    for name in extra_routes:
        integrations.append(integration(name, "http://backend/echo/" + name))
        routes.append({"routeKey": "GET /" + name, "target": name})
    return config([port], apis=[api(integrations=integrations, routes=routes)])


class Hammer:
    """Client threads, each on one keep-alive session, counting every outcome."""

    def __init__(self, gw, threads=4):
        self.gw = gw
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.failures = []
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(threads)]

    def run(self, index):
        with requests.Session() as s:
            n = 0
            while not self.stop.is_set():
                n += 1
                try:
                    r = s.post(self.gw.url + "/echo/load/%d" % index, data=b"x" * (n % 300), timeout=TIMEOUT)
                    good = r.status_code == 200 and r.json()["bodyLength"] == n % 300
                    outcome = None if good else "%d %r" % (r.status_code, r.content[:200])
                except Exception as error:  # noqa: BLE001 - every failure counts
                    outcome = repr(error)
                with self.lock:
                    if outcome is None:
                        self.ok += 1
                    else:
                        self.failures.append(outcome)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(TIMEOUT)


def test_reload_under_load_drops_no_request_and_serves_new_routes(gateway_factory, upstream):
    gw = gateway_factory(config_with_routes(upstream.port, []))
    routes = []
    generations = []
    with Hammer(gw) as hammer:
        wait_until(lambda: hammer.ok > 20, 5, message="load to start")
        for i in range(6):
            routes.append("new%d" % i)
            gw.write_config(config_with_routes(upstream.port, routes))
            if i % 2 == 0:
                gw.signal(signal.SIGHUP)
            else:
                r = gw.reload_admin()
                assert r.status_code == 200, r.text
                assert r.json()["message"] == "reloaded"
                generations.append(r.json()["generation"])
            name = routes[-1]
            wait_until(lambda: get(gw, "/" + name).json()["path"] == "/echo/" + name, 5,
                       message="route %s to serve" % name)
            time.sleep(0.2)
        time.sleep(0.3)
    assert hammer.failures == []
    assert hammer.ok > 200
    assert generations == sorted(generations) and len(set(generations)) == 3
    for name in routes:
        assert get(gw, "/" + name).json()["path"] == "/echo/" + name
    assert gw.health()["generation"] == 7


def test_admin_reload_rejects_a_bad_config_and_the_old_one_keeps_serving(gateway_factory, upstream):
    gw = gateway_factory(config_with_routes(upstream.port, ["kept"]))
    bad = config_with_routes(upstream.port, ["kept", "added"])
    bad["apis"][0]["routes"][2]["tagret"] = bad["apis"][0]["routes"][2].pop("target")
    gw.write_config(bad)
    r = gw.reload_admin()
    assert r.status_code == 400
    body = r.json()
    assert body["message"] == "configuration rejected; the previous one keeps serving"
    assert any("apis[0].routes[2]" in e and "tagret" in e for e in body["errors"]), body
    assert all(e.startswith(str(gw.config_path)) for e in body["errors"]), body
    assert get(gw, "/kept").json()["path"] == "/echo/kept"
    assert get(gw, "/added").json()["path"] == "/added"
    assert gw.health()["generation"] == 1


def test_sighup_with_a_bad_config_keeps_the_old_one_and_logs_why(gateway_factory, upstream):
    gw = gateway_factory(config_with_routes(upstream.port, ["kept"]))
    gw.write_raw_config("apis: [this is: not: valid yaml\n")
    gw.signal(signal.SIGHUP)
    wait_until(lambda: "reload on SIGHUP refused" in gw.stderr(), 5, message="the refusal to be logged")
    assert get(gw, "/kept").json()["path"] == "/echo/kept"
    gw.write_config(config_with_routes(upstream.port, ["kept", "later"]))
    r = gw.reload_admin()
    assert r.status_code == 200, r.text
    assert get(gw, "/later").json()["path"] == "/echo/later"


def test_request_in_flight_during_reload_completes(gateway_factory, upstream):
    gw = gateway_factory(config_with_routes(upstream.port, []))
    result = {}
    thread = threading.Thread(target=lambda: result.update(r=get(gw, "/stall?ms=1000")))
    thread.start()
    wait_until(lambda: upstream.stats()["requests"] == 1, 3, message="the slow request to arrive")
    gw.write_config(config_with_routes(upstream.port, ["stall"]))
    assert gw.reload_admin().status_code == 200
    thread.join(TIMEOUT)
    assert result["r"].status_code == 200
    assert result["r"].json()["stalled"] is True
    assert get(gw, "/stall").json()["path"] == "/echo/stall"


def _refused(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.settimeout(1)
            sock.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
            return sock.recv(1) == b""
    except (ConnectionRefusedError, ConnectionResetError):
        return True
    except socket.timeout:
        return False


def test_sigterm_drains_in_flight_request_refuses_new_ones_and_exits_0(gateway_factory, upstream):
    gw = gateway_factory(config([upstream.port], settings={"drainTimeoutSeconds": 10}))
    result = {}

    def slow():
        try:
            result["r"] = get(gw, "/stall?ms=1500")
        except Exception as error:  # noqa: BLE001
            result["error"] = error

    thread = threading.Thread(target=slow)
    thread.start()
    wait_until(lambda: upstream.stats()["requests"] == 1, 3, message="the slow request to arrive")
    started = time.monotonic()
    gw.signal(signal.SIGTERM)
    wait_until(lambda: _refused(gw.port), 1.0, interval=0.05, message="new connections to be refused")
    assert thread.is_alive(), "the in-flight request ended before the upstream answered"
    thread.join(TIMEOUT)
    assert "error" not in result, result
    assert result["r"].status_code == 200
    assert result["r"].json() == {"stalled": True, "upstream": "up0"}
    rc = gw.proc.wait(timeout=TIMEOUT)
    gw.exit_checked = True
    assert rc == 0, gw.stderr()
    assert time.monotonic() - started < 4


def test_sigterm_closes_idle_keep_alive_connections_and_exits_promptly(gateway_factory, upstream):
    gw = gateway_factory(config([upstream.port], settings={"drainTimeoutSeconds": 10}))
    with socket.create_connection(("127.0.0.1", gw.port), timeout=TIMEOUT) as idle:
        idle.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.2)
        idle.recv(65536)
        started = time.monotonic()
        gw.signal(signal.SIGTERM)
        rc = gw.proc.wait(timeout=TIMEOUT)
        gw.exit_checked = True
        assert rc == 0
        assert time.monotonic() - started < 2, "an idle keep-alive connection held up the drain"


def test_drain_timeout_bounds_shutdown_with_a_stuck_request(gateway_factory, upstream):
    gw = gateway_factory(config([upstream.port], settings={"drainTimeoutSeconds": 1}))
    result = {}

    def stuck():
        try:
            result["status"] = get(gw, "/stall?ms=6000").status_code
        except requests.RequestException as error:
            result["error"] = error

    thread = threading.Thread(target=stuck)
    thread.start()
    wait_until(lambda: upstream.stats()["requests"] == 1, 3, message="the stuck request to arrive")
    started = time.monotonic()
    gw.signal(signal.SIGTERM)
    rc = gw.proc.wait(timeout=TIMEOUT)
    gw.exit_checked = True
    elapsed = time.monotonic() - started
    thread.join(TIMEOUT)
    assert rc == 0
    assert 0.8 <= elapsed <= 2.5, "exit after %.2fs with drainTimeoutSeconds 1" % elapsed
    assert result.get("status") != 200


def test_reload_moving_a_target_group_to_new_endpoints_under_load_drops_nothing(gateway_factory, upstream_factory):
    old, new = upstream_factory("old"), upstream_factory("new")
    gw = gateway_factory(config([old.port]))
    with Hammer(gw, threads=3) as hammer:
        wait_until(lambda: hammer.ok > 20, 5, message="load to start")
        gw.write_config(config([new.port]))
        assert gw.reload_admin().status_code == 200
        wait_until(lambda: new.stats()["requests"] > 20, 5, message="traffic to move to the new endpoint")
        moved_at = old.stats()["requests"]
        time.sleep(0.3)
    assert hammer.failures == []
    assert old.stats()["requests"] == moved_at, "the old endpoint still got traffic after the reload"
    assert [e["endpoint"] for g in gw.health()["targetGroups"] for e in g["endpoints"]] == ["127.0.0.1:%d" % new.port]


def test_response_in_flight_at_sigterm_says_connection_close_and_the_connection_ends(gateway_factory, upstream):
    from helpers import ResponseReader, connect

    gw = gateway_factory(config([upstream.port]))
    with connect(gw.port) as sock:
        sock.sendall(b"GET /stall?ms=800 HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_until(lambda: upstream.stats()["requests"] == 1, 3, message="the slow request to arrive")
        gw.signal(signal.SIGTERM)
        reader = ResponseReader(sock)
        r = reader.read()
        assert r.status == 200
        assert r.header("connection") == "close"
        assert reader.at_eof()
    assert gw.proc.wait(timeout=TIMEOUT) == 0
    gw.exit_checked = True
