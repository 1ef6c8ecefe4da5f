"""Deployments, stage variables and canaries against the real binary, with two real upstreams
(the stage's target group and the canary's) that count their hits: a 10% canary over 10,000
requests, sticky canaries (header and cookie), stage variables (and a canary's overrides)
reaching the upstream URL, the access log's $context.deploymentId / isCanaryRequest, and
promotion by reload (admin endpoint and SIGHUP) under load without a failed request.
"""

import json
import math
import signal
import threading
import time

import pytest
import requests

from access_helpers import KeepAliveClient
from helpers import TIMEOUT, api, config, integration, target_group, wait_until

CANARY = "canary1; canary"
MAIN = "$current"


def split_config(main_port, canary_port, percent, sticky=None, promoted=False, stage_extra=None, settings=None):
    """`GET /split` → group `main` at /main; deployment canary1 → group `canaryg` at /canary."""
    a = api(
        integrations=[integration("pass", "http://main/main")],
        routes=[{"routeKey": "GET /split", "target": "pass"}],
        stages=[{"stageName": "$default"}])
    a["deployments"] = [{
        "deploymentId": "canary1",
        "integrations": [integration("pass", "http://canaryg/canary")],
        "routes": [{"routeKey": "GET /split", "target": "pass"}],
    }]
    stage = a["stages"][0]
    if promoted:
        stage["deploymentId"] = "canary1"
    else:
        canary = {"deploymentId": "canary1", "percentTraffic": percent}
        if sticky:
            canary["sticky"] = sticky
        stage["canarySettings"] = canary
    stage.update(stage_extra or {})
    groups = [target_group([main_port], name="main"), target_group([canary_port], name="canaryg")]
    # Above the account default (10,000 rps): the load tests here may go faster than that.
    settings = dict({"throttle": {"burstLimit": 1_000_000, "rateLimit": 1_000_000}}, **(settings or {}))
    return config([], apis=[a], groups=groups, settings=settings)


@pytest.fixture
def two(upstream_factory):
    return upstream_factory("main"), upstream_factory("canary")


def count_requests(upstream):
    return upstream.stats()["requests"]


# -- the split ----------------------------------------------------------------------------


def test_ten_percent_canary_serves_ten_percent_of_10000_requests_within_5_sigma(gateway_factory, two):
    """n = 10,000, p = 0.10: sigma = sqrt(n p (1 - p)) = 30, so 5 sigma is ±150 requests
    (a false failure about once in 1.7 million runs)."""
    main, canary = two
    gw = gateway_factory(split_config(main.port, canary.port, 10), workers=4)
    n, threads = 10_000, 8
    per = n // threads
    counts = {}
    problems = []
    lock = threading.Lock()

    def run():
        local = {}
        try:
            with KeepAliveClient(gw.port) as client:
                for _ in range(per):
                    r = client.get("/split")
                    if r.status != 200:
                        problems.append((r.status, r.body[:100]))
                        return
                    side = r.header("x-turnpike-deployment")
                    path = json.loads(r.body)["path"]
                    if (side, path) not in ((MAIN, "/main"), (CANARY, "/canary")):
                        problems.append((side, path))
                        return
                    local[side] = local.get(side, 0) + 1
        except Exception as e:  # noqa: BLE001 - reported below
            problems.append(repr(e))
        with lock:
            for k, v in local.items():
                counts[k] = counts.get(k, 0) + v

    workers = [threading.Thread(target=run) for _ in range(threads)]
    started = time.monotonic()
    for t in workers:
        t.start()
    for t in workers:
        t.join(45)
    assert not problems, problems[:5]
    assert sum(counts.values()) == n, counts
    expected, bound = n * 0.10, 5 * math.sqrt(n * 0.10 * 0.90)
    assert bound == 150
    assert abs(counts.get(CANARY, 0) - expected) <= bound, (counts, time.monotonic() - started)
    # The upstreams agree: every canary answer came from the canary deployment's target group.
    assert count_requests(canary) == counts.get(CANARY, 0)
    assert count_requests(main) == counts.get(MAIN, 0)


@pytest.mark.parametrize("percent,expected", [(0, MAIN), (100, CANARY)])
def test_zero_and_hundred_percent_canaries_are_deterministic(gateway_factory, two, percent, expected):
    main, canary = two
    gw = gateway_factory(split_config(main.port, canary.port, percent))
    with KeepAliveClient(gw.port) as client:
        sides = {client.get("/split").header("x-turnpike-deployment") for _ in range(200)}
    assert sides == {expected}


def test_sticky_canary_by_header_keeps_each_client_on_one_side(gateway_factory, two):
    main, canary = two
    gw = gateway_factory(split_config(main.port, canary.port, 50, sticky={"header": "x-user"}), workers=4)
    users, repeats = 100, 4
    sides = {}
    with KeepAliveClient(gw.port) as c1, KeepAliveClient(gw.port) as c2:
        for round_ in range(repeats):
            client = c1 if round_ % 2 == 0 else c2  # other connections, likely other workers
            for u in range(users):
                r = client.get("/split", {"X-User": "user-%d" % u})
                assert r.status == 200
                sides.setdefault(u, set()).add(r.header("x-turnpike-deployment"))
    assert all(len(s) == 1 for s in sides.values()), {u: s for u, s in sides.items() if len(s) > 1}
    on_canary = sum(1 for s in sides.values() if s == {CANARY})
    # Binomial(100, 0.5): sigma 5, 5 sigma = ±25 users.
    assert abs(on_canary - 50) <= 25, on_canary
    assert 0 < on_canary < users


def test_sticky_canary_by_cookie(gateway_factory, two):
    main, canary = two
    gw = gateway_factory(split_config(main.port, canary.port, 50, sticky={"cookie": "cid"}))
    sides = {}
    with KeepAliveClient(gw.port) as client:
        for _ in range(3):
            for u in range(40):
                r = client.get("/split", {"Cookie": "theme=dark; cid=client-%d; lang=en" % u})
                sides.setdefault(u, set()).add(r.header("x-turnpike-deployment"))
    assert all(len(s) == 1 for s in sides.values()), sides
    assert {next(iter(s)) for s in sides.values()} == {MAIN, CANARY}


def test_access_log_records_deployment_and_canary_flag(gateway_factory, two):
    main, canary = two
    fmt = "$context.requestId $context.deploymentId $context.isCanaryRequest"
    gw = gateway_factory(split_config(main.port, canary.port, 50, settings={
        "accessLog": {"enabled": True, "destination": "file://./access.log", "format": fmt}}))
    seen = {}
    with KeepAliveClient(gw.port) as client:
        for _ in range(40):
            r = client.get("/split")
            seen[r.header("apigw-requestid")] = r.header("x-turnpike-deployment")
    log = gw.workdir / "access.log"
    lines = wait_until(lambda: log.exists() and len(log.read_text().splitlines()) >= 40 and log.read_text().splitlines(),
                       5, message="40 access log lines")
    logged = {}
    for line in lines:
        rid, deployment, is_canary = line.split(" ")
        logged[rid] = (deployment, is_canary)
    assert set(logged) == set(seen)
    for rid, side in seen.items():
        if side == CANARY:
            assert logged[rid] == ("canary1", "true"), (rid, logged[rid])
        else:
            assert logged[rid][1] == "false", (rid, logged[rid])
            assert logged[rid][0] in ("-", "$current"), logged[rid]
    assert {s for s in seen.values()} == {MAIN, CANARY}


# -- stage variables ------------------------------------------------------------------------


def test_stage_variables_reach_the_upstream_url_including_canary_overrides(gateway_factory, two):
    blue, green = two
    sv = integration("sv", "http://${stageVariables.group}/sv/${stageVariables.color}")
    a = api(integrations=[sv], routes=[{"routeKey": "GET /where", "target": "sv"}], stages=[
        {"stageName": "$default", "stageVariables": {"group": "blue", "color": "navy"}},
        {"stageName": "beta", "stageVariables": {"group": "green", "color": "lime"}},
        {"stageName": "gamma", "stageVariables": {"group": "blue", "color": "navy"},
         "canarySettings": {"deploymentId": "d1", "percentTraffic": 100,
                            "stageVariableOverrides": {"group": "green", "color": "red"}}},
        {"stageName": "delta", "stageVariables": {"group": "blue", "color": "teal"},
         "canarySettings": {"deploymentId": "d1", "percentTraffic": 0,
                            "stageVariableOverrides": {"color": "red"}}},
        {"stageName": "epsilon", "stageVariables": {"group": "blue", "color": "teal"},
         "canarySettings": {"deploymentId": "d1", "percentTraffic": 100,
                            "stageVariableOverrides": {"color": "red"}}},
    ])
    a["deployments"] = [{"deploymentId": "d1", "integrations": [sv],
                         "routes": [{"routeKey": "GET /where", "target": "sv"}]}]
    groups = [target_group([blue.port], name="blue"), target_group([green.port], name="green")]
    gw = gateway_factory(config([], apis=[a], groups=groups))

    def where(prefix):
        r = requests.get(gw.url + prefix + "/where?x=1", timeout=TIMEOUT)
        assert r.status_code == 200, (prefix, r.status_code, r.text)
        echo = r.json()
        return echo["upstream"], echo["path"], echo["query"], r.headers.get("x-turnpike-deployment")

    assert where("") == ("main", "/sv/navy", "x=1", None)
    assert where("/beta") == ("canary", "/sv/lime", "x=1", None)
    # The canary's overrides replace the stage's variables, in the host and in the path.
    assert where("/gamma") == ("canary", "/sv/red", "x=1", "d1; canary")
    # A 0% canary never applies its overrides.
    assert where("/delta") == ("main", "/sv/teal", "x=1", MAIN)
    # Overrides are merged over the stage's variables: `group` stays the stage's.
    assert where("/epsilon") == ("main", "/sv/red", "x=1", "d1; canary")
    assert count_requests(blue) == 3 and count_requests(green) == 2


# -- promotion ------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["admin", "sighup"])
def test_promotion_by_reload_under_load_drops_no_request(gateway_factory, two, how):
    main, canary = two
    gw = gateway_factory(split_config(main.port, canary.port, 10), workers=4)
    stop = threading.Event()
    failures = []
    served = {"before": 0, "after": 0}
    lock = threading.Lock()

    def load():
        client = KeepAliveClient(gw.port)
        try:
            while not stop.is_set():
                try:
                    r = client.get("/split")
                except Exception as e:  # noqa: BLE001 - a dropped request
                    failures.append(repr(e))
                    return
                if r.status != 200:
                    failures.append((r.status, r.body[:100]))
                    return
                path = json.loads(r.body)["path"]
                with lock:
                    served["after" if r.header("x-turnpike-deployment") is None else "before"] += 1
                if path not in ("/main", "/canary"):
                    failures.append(path)
                if (r.header("connection") or "").lower() == "close":
                    client.close()  # announced close: a well-behaved client reconnects
                    client = KeepAliveClient(gw.port)
        finally:
            client.close()

    threads = [threading.Thread(target=load) for _ in range(6)]
    for t in threads:
        t.start()
    time.sleep(0.7)
    gw.write_config(split_config(main.port, canary.port, 10, promoted=True))
    if how == "admin":
        r = gw.reload_admin()
        assert r.status_code == 200, r.text
    else:
        gw.signal(signal.SIGHUP)
    wait_until(lambda: gw.health()["generation"] == 2, 10, message="the reload to apply")
    time.sleep(0.7)
    stop.set()
    for t in threads:
        t.join(TIMEOUT)
    assert not failures, failures[:5]
    assert served["before"] > 50 and served["after"] > 50, served

    # Promoted: the stage serves canary1 itself — every request goes to its target group,
    # and with no canary left there is no deployment header.
    before = count_requests(main), count_requests(canary)
    with KeepAliveClient(gw.port) as client:
        for _ in range(100):
            r = client.get("/split")
            assert r.status == 200 and json.loads(r.body)["path"] == "/canary"
            assert r.header("x-turnpike-deployment") is None
    assert count_requests(main) == before[0]
    assert count_requests(canary) == before[1] + 100


# -- canary and the stage cache -------------------------------------------------------------


def test_canary_requests_bypass_the_stage_cache_and_hits_still_say_which_deployment_served(gateway_factory, two):
    main, canary = two
    cache = {"cacheClusterEnabled": True, "cacheCapacityBytes": 1_000_000,
             "routeSettings": {"GET /split": {"cachingEnabled": True}}}
    gw = gateway_factory(split_config(main.port, canary.port, 50, stage_extra=cache))
    outcomes = []
    with KeepAliveClient(gw.port) as client:
        for _ in range(100):
            r = client.get("/split")
            assert r.status == 200
            outcomes.append((r.header("x-turnpike-deployment"), r.header("x-cache"), json.loads(r.body)["path"]))
    canary_side = [o for o in outcomes if o[2] == "/canary"]
    main_side = [o for o in outcomes if o[2] == "/main"]
    assert canary_side and main_side
    # useStageCache: false (the default): canary requests neither read nor fill the cache.
    assert all(o[1] is None for o in canary_side), canary_side[:3]
    assert count_requests(canary) == len(canary_side)
    # The stage's own requests: one fill, then hits without the upstream.
    assert count_requests(main) == 1
    assert [o[1] for o in main_side] == ["Miss"] + ["Hit"] * (len(main_side) - 1)
    # On a stage with a canary every response says which deployment served — hits included.
    assert {o[0] for o in canary_side} == {CANARY}
    assert {o[0] for o in main_side} == {MAIN}, sorted(set(o[0] or "<none>" for o in main_side))
