"""Upstream keep-alive pools, load balancing and active health checks, seen from the upstreams."""

import threading

import requests

from helpers import TIMEOUT, config, target_group, wait_until


def get(gw, path, session=None, **kw):
    kw.setdefault("timeout", TIMEOUT)
    return (session or requests).get(gw.url + path, **kw)


def test_sequential_requests_reuse_a_few_upstream_connections(gateway_factory, upstream):
    gw = gateway_factory(config([upstream.port]), workers=2)
    with requests.Session() as s:
        statuses = [get(gw, "/echo/%d" % i, s).status_code for i in range(200)]
    assert statuses == [200] * 200
    stats = upstream.stats()
    assert stats["requests"] == 200
    assert 1 <= stats["connections"] <= 4, stats


def test_client_connections_that_close_still_share_pooled_upstream_connections(gateway_factory, upstream):
    gw = gateway_factory(config([upstream.port]), workers=2)
    for i in range(60):
        r = get(gw, "/echo/%d" % i, headers={"Connection": "close"})
        assert r.status_code == 200
    stats = upstream.stats()
    assert stats["requests"] == 60
    assert stats["connections"] <= 4, stats


def test_max_idle_connections_zero_opens_a_connection_per_request(gateway_factory, upstream):
    group = target_group([upstream.port], maxIdleConnectionsPerEndpoint=0)
    gw = gateway_factory(config([upstream.port], groups=[group]))
    with requests.Session() as s:
        assert [get(gw, "/echo", s).status_code for _ in range(10)] == [200] * 10
    wait_until(lambda: upstream.stats()["connections"] == 10, 3, message="10 upstream connections")


def test_round_robin_sends_traffic_to_both_endpoints(gateway_factory, upstream_factory):
    a, b = upstream_factory("a"), upstream_factory("b")
    group = target_group([a.port, b.port], loadBalancing="ROUND_ROBIN")
    gw = gateway_factory(config([], groups=[group]))
    seen = []
    with requests.Session() as s:
        for _ in range(40):
            r = get(gw, "/echo", s)
            assert r.status_code == 200
            seen.append(r.json()["upstream"])
    assert seen.count("a") >= 10 and seen.count("b") >= 10, seen
    assert a.stats()["requests"] + b.stats()["requests"] == 40


def test_least_outstanding_avoids_the_endpoint_with_a_request_in_flight(gateway_factory, upstream_factory):
    a, b = upstream_factory("a"), upstream_factory("b")
    group = target_group([a.port, b.port], loadBalancing="LEAST_OUTSTANDING")
    gw = gateway_factory(config([], groups=[group]), workers=1)
    slow = {}

    def stall():
        slow["response"] = get(gw, "/stall?ms=1500")

    thread = threading.Thread(target=stall)
    thread.start()
    wait_until(lambda: a.stats()["requests"] + b.stats()["requests"] == 1, 3, message="the slow request to arrive")
    busy, idle = (a, b) if a.stats()["requests"] == 1 else (b, a)
    with requests.Session() as s:
        names = [get(gw, "/echo", s).json()["upstream"] for _ in range(10)]
    thread.join(TIMEOUT)
    assert slow["response"].status_code == 200
    assert names == [idle.name] * 10
    assert busy.stats()["requests"] == 1


def test_health_check_takes_a_failing_endpoint_out_and_back_in(gateway_factory, upstream_factory):
    a, b = upstream_factory("a"), upstream_factory("b")
    group = target_group([a.port, b.port], healthCheck={
        "path": "/healthz", "intervalSeconds": 1, "timeoutSeconds": 1, "healthyThreshold": 1, "unhealthyThreshold": 2})
    gw = gateway_factory(config([], groups=[group]))
    b_endpoint = "127.0.0.1:%d" % b.port
    wait_until(lambda: b.stats()["healthChecks"] >= 1, 4, message="health checks to start")
    b.fail_health()
    wait_until(lambda: gw.endpoint_health()[b_endpoint] is False, 5, message="b marked unhealthy")
    a.reset_stats()
    b.reset_stats()
    with requests.Session() as s:
        assert [get(gw, "/echo", s).json()["upstream"] for _ in range(20)] == ["a"] * 20
    assert b.stats()["requests"] == 0
    b.pass_health()
    wait_until(lambda: gw.endpoint_health()[b_endpoint], 4, message="b marked healthy again")
    with requests.Session() as s:
        names = [get(gw, "/echo", s).json()["upstream"] for _ in range(20)]
    assert names.count("b") >= 5, names


def test_health_checks_use_the_configured_path_and_interval(gateway_factory, upstream):
    group = target_group([upstream.port], healthCheck={"path": "/healthz", "intervalSeconds": 1})
    gateway_factory(config([upstream.port], groups=[group]))
    wait_until(lambda: upstream.stats()["healthChecks"] >= 2, 4, message="two health checks")
    assert upstream.stats()["requests"] == 0
