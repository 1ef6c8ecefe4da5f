"""The stage response cache against the real binary and a real upstream that counts its hits:
TTL expiry, cache key parameters (route resource path + configured values, as REST APIs do),
what is not stored (no-store / private, non-2xx, non-GET), request coalescing across workers,
the admin flush and the per-stage cache statistics in /admin/health.

Every request carries an `x-probe` header the cache key ignores; the upstream's /echo answer
shows it, so a cached body proves which request filled the entry.
"""

import threading

import pytest
import requests

from helpers import API_ID, TIMEOUT, api, config, header_values, integration, raw_request

CAPACITY = 4_000_000


def cache_api(routes, integrations, route_settings, stage_extra=None):
    stage = {
        "stageName": "$default",
        "cacheClusterEnabled": True,
        "cacheCapacityBytes": CAPACITY,
        "routeSettings": route_settings,
    }
    stage.update(stage_extra or {})
    return api(integrations=integrations, routes=routes, stages=[stage])


def main_cache_config(port):
    integrations = [
        integration("pass", "http://backend"),
        integration("nostore", "http://backend/headers?h=Cache-Control:no-store"),
        integration("private", "http://backend/headers?h=Cache-Control:private,max-age=60"),
        integration("public", "http://backend/headers?h=Cache-Control:public,max-age=60"),
        integration("notfound", "http://backend/status/404"),
        integration("failing", "http://backend/status/500"),
        integration("slow", "http://backend/stall?ms=300"),
    ]
    routes = [
        {"routeKey": "GET /pets/{id}", "target": "pass"},
        {"routeKey": "GET /items/{id}", "target": "pass"},
        {"routeKey": "GET /short", "target": "pass"},
        {"routeKey": "GET /nostore", "target": "nostore"},
        {"routeKey": "GET /private", "target": "private"},
        {"routeKey": "GET /public", "target": "public"},
        {"routeKey": "GET /missing", "target": "notfound"},
        {"routeKey": "GET /failing", "target": "failing"},
        {"routeKey": "GET /slow", "target": "slow"},
        {"routeKey": "ANY /anything", "target": "pass"},
        {"routeKey": "GET /uncached", "target": "pass"},
    ]
    on = {"cachingEnabled": True}
    settings = {
        "GET /pets/{id}": dict(on, cacheTtlInSeconds=300),
        "GET /items/{id}": dict(on, cacheKeyParameters=[
            "method.request.path.id", "method.request.querystring.lang", "method.request.header.x-tenant"]),
        "GET /short": dict(on, cacheTtlInSeconds=1),
        "GET /nostore": on,
        "GET /private": on,
        "GET /public": on,
        "GET /missing": on,
        "GET /failing": on,
        "GET /slow": on,
        "ANY /anything": on,
    }
    return config([port], apis=[cache_api(routes, integrations, settings)])


@pytest.fixture
def gw(gateway_factory, upstream):
    return gateway_factory(main_cache_config(upstream.port), workers=4)


def get(gw, path, probe, **headers):
    headers = dict(headers)
    headers["x-probe"] = str(probe)
    return requests.get(gw.url + path, headers=headers, timeout=TIMEOUT)


def probe_of(r):
    """Which request's x-probe the upstream saw for this (possibly cached) body."""
    return header_values(r.json(), "x-probe")


def hits(upstream):
    return upstream.stats()["requests"]


def cache_stats(gw, stage="$default"):
    matches = [c for c in gw.health()["caches"] if c["apiId"] == API_ID and c["stage"] == stage]
    assert len(matches) == 1, gw.health()
    return matches[0]


# -- hit, miss, TTL -----------------------------------------------------------------------


def test_cached_get_is_served_without_the_upstream_until_the_ttl_expires(gw, upstream):
    first = get(gw, "/short", 1)
    assert first.status_code == 200
    assert first.headers["x-cache"] == "Miss"
    assert probe_of(first) == ["1"]
    assert hits(upstream) == 1

    second = get(gw, "/short", 2)
    assert second.status_code == 200
    assert second.headers["x-cache"] == "Hit"
    assert second.content == first.content  # the stored body, byte for byte
    assert probe_of(second) == ["1"]
    assert second.headers["content-type"] == "application/json"
    assert hits(upstream) == 1
    # A hit gets its own request id, not the filler's.
    assert second.headers["apigw-requestid"] != first.headers["apigw-requestid"]

    # cacheTtlInSeconds: 1 — after it the entry is gone and the next request goes upstream.
    import time
    time.sleep(1.3)
    third = get(gw, "/short", 3)
    assert third.status_code == 200
    assert third.headers["x-cache"] == "Miss"
    assert probe_of(third) == ["3"]
    assert hits(upstream) == 2
    fourth = get(gw, "/short", 4)
    assert fourth.headers["x-cache"] == "Hit" and probe_of(fourth) == ["3"]
    assert hits(upstream) == 2


def test_cache_key_is_the_route_resource_path_plus_configured_parameters(gw, upstream):
    # GET /pets/{id} has no key parameters: as in AWS REST, /pets/1 and /pets/2 share one entry.
    a = get(gw, "/pets/1", 1)
    b = get(gw, "/pets/2", 2)
    assert (a.headers["x-cache"], b.headers["x-cache"]) == ("Miss", "Hit")
    assert b.json()["path"] == "/pets/1"
    assert hits(upstream) == 1

    # GET /items/{id} keys on path id, query lang and header x-tenant.
    def item(path, probe, expect, **headers):
        r = get(gw, path, probe, **headers)
        assert r.status_code == 200, r.text
        assert r.headers["x-cache"] == expect, (path, headers, r.headers)
        return r

    item("/items/1", 10, "Miss")
    assert probe_of(item("/items/1", 11, "Hit")) == ["10"]
    assert probe_of(item("/items/2", 12, "Miss")) == ["12"]  # another path value: another entry
    item("/items/1?lang=en", 13, "Miss")
    item("/items/1?lang=fr", 14, "Miss")
    assert probe_of(item("/items/1?lang=en", 15, "Hit")) == ["13"]
    # A query parameter that is not a key parameter does not split the entry.
    assert probe_of(item("/items/1?lang=en&utm=x", 16, "Hit")) == ["13"]
    item("/items/1", 17, "Miss", **{"x-tenant": "acme"})
    item("/items/1", 18, "Miss", **{"x-tenant": "globex"})
    assert probe_of(item("/items/1", 19, "Hit", **{"X-Tenant": "acme"})) == ["17"]
    assert probe_of(item("/items/2", 20, "Hit")) == ["12"]
    assert hits(upstream) == 1 + 6


def test_upstream_no_store_and_private_are_not_cached_but_public_is(gw, upstream):
    for path in ("/nostore", "/private"):
        for _ in range(3):
            r = get(gw, path, 0)
            assert r.status_code == 200
            assert r.headers["x-cache"] == "Miss", (path, r.headers)
    assert hits(upstream) == 6
    r1 = get(gw, "/public", 1)
    r2 = get(gw, "/public", 2)
    assert (r1.headers["x-cache"], r2.headers["x-cache"]) == ("Miss", "Hit")
    assert r2.headers["cache-control"] == "public,max-age=60"  # the stored response's own fields
    assert hits(upstream) == 7
    assert cache_stats(gw)["entries"] == 1


def test_non_2xx_responses_are_not_cached(gw, upstream):
    for path, status in (("/missing", 404), ("/failing", 500)):
        for _ in range(3):
            r = get(gw, path, 0)
            assert r.status_code == status
            assert r.json() == {"status": status, "upstream": "up0"}
            assert r.headers["x-cache"] == "Miss"
    assert hits(upstream) == 6
    assert cache_stats(gw)["entries"] == 0


def test_only_get_is_cached_on_an_any_route_and_uncached_routes_carry_no_cache_header(gw, upstream):
    for method in ("POST", "PUT", "DELETE"):
        for _ in range(2):
            r = requests.request(method, gw.url + "/anything", timeout=TIMEOUT)
            assert r.status_code == 200
            assert r.json()["method"] == method
            assert "x-cache" not in r.headers
    assert hits(upstream) == 6
    g1 = get(gw, "/anything", 1)
    g2 = get(gw, "/anything", 2)
    assert (g1.headers["x-cache"], g2.headers["x-cache"]) == ("Miss", "Hit")
    # A POST after the GET was cached still goes upstream.
    p = requests.post(gw.url + "/anything", timeout=TIMEOUT)
    assert p.json()["method"] == "POST" and "x-cache" not in p.headers
    for _ in range(2):
        r = get(gw, "/uncached", 0)
        assert r.status_code == 200 and "x-cache" not in r.headers
    assert hits(upstream) == 6 + 1 + 1 + 2


# -- coalescing ---------------------------------------------------------------------------


def test_twenty_concurrent_misses_make_one_upstream_request_across_workers(gw, upstream):
    n = 20
    barrier = threading.Barrier(n)
    results = [None] * n
    errors = []

    def client(i):
        try:
            barrier.wait(timeout=TIMEOUT)
            results[i] = raw_request(
                gw.port, ("GET /slow HTTP/1.1\r\nHost: t\r\nx-probe: %d\r\nConnection: close\r\n\r\n" % i).encode())
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT * 2)
    assert not errors, errors
    assert [r.status for r in results] == [200] * n
    assert hits(upstream) == 1  # /stall?ms=300 was asked exactly once
    bodies = {r.body for r in results}
    assert bodies == {b'{"stalled": true, "upstream": "up0"}'}
    statuses = sorted(r.header("x-cache") for r in results)
    assert statuses == ["Hit"] * (n - 1) + ["Miss"]
    stats = cache_stats(gw)
    assert stats["CacheHitCount"] + stats["CacheMissCount"] == n
    # Every miss but the filler's waited for the fill.
    assert stats["coalesced"] == stats["CacheMissCount"] - 1
    assert stats["coalesced"] >= 1
    assert stats["entries"] == 1


# -- flush and statistics -----------------------------------------------------------------


def test_admin_flush_empties_the_stage_cache_and_health_reports_its_statistics(gw, upstream):
    before = cache_stats(gw)
    assert before == {"apiId": API_ID, "stage": "$default", "CacheHitCount": 0, "CacheMissCount": 0,
                      "coalesced": 0, "entries": 0, "bytes": 0, "capacityBytes": CAPACITY}
    get(gw, "/pets/1", 1)
    get(gw, "/pets/1", 2)
    get(gw, "/pets/1", 3)
    get(gw, "/items/9", 4)
    stats = cache_stats(gw)
    assert (stats["CacheHitCount"], stats["CacheMissCount"], stats["entries"]) == (2, 2, 2)
    assert 0 < stats["bytes"] < CAPACITY
    assert hits(upstream) == 2

    r = requests.delete(gw.admin_url + "/admin/cache?apiId=%s&stage=$default" % API_ID, timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.json() == {"message": "flushed", "stages": [API_ID + "/$default"]}
    stats = cache_stats(gw)
    assert (stats["entries"], stats["bytes"]) == (0, 0)

    again = get(gw, "/pets/1", 5)
    assert again.headers["x-cache"] == "Miss" and probe_of(again) == ["5"]
    assert hits(upstream) == 3
    assert get(gw, "/pets/1", 6).headers["x-cache"] == "Hit"

    # Flushing a stage without a cache (or an unknown api) says so.
    r = requests.delete(gw.admin_url + "/admin/cache?apiId=nosuchapi", timeout=TIMEOUT)
    assert r.status_code == 404
    assert r.json() == {"message": "no stage cache matches"}
    assert requests.get(gw.admin_url + "/admin/cache", timeout=TIMEOUT).status_code == 405
