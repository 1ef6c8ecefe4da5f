"""API keys, usage plans, throttles at every level and durable quotas against the real binary.

Throttle counts are taken on one keep-alive connection fired as fast as it goes, so the only
slack allowed is one request of refill while the loop runs.
"""

import json
import re
import threading
import time
from datetime import datetime, timezone

import requests

from access_helpers import KeepAliveClient, SigningKey, claims, statuses
from helpers import TIMEOUT, api, config, header_values, integration, wait_until

FORBIDDEN = b'{"message":"Forbidden"}'
TOO_MANY = b'{"message":"Too Many Requests"}'
LIMIT_EXCEEDED = b'{"message":"Limit Exceeded"}'

ALPHA = "alpha-key-0123456789abcdef"
BETA = "beta-key-0123456789abcdef"
GAMMA = "gamma-key-0123456789abcdef"
DISABLED = "disabled-key-0123456789abcdef"
PLANLESS = "planless-key-0123456789abcdef"


def api_keys():
    return [
        {"id": "keyalpha", "name": "alpha", "value": ALPHA},
        {"id": "keybeta", "name": "beta", "value": BETA},
        {"id": "keygamma", "name": "gamma", "value": GAMMA},
        {"id": "keydisabled", "name": "disabled", "value": DISABLED, "enabled": False},
        {"id": "keyplanless", "name": "planless", "value": PLANLESS},
    ]


def traffic_api(stage=None, extra_routes=()):
    """GET /keyed and GET /keyed-slow need an API key (the key id is mapped onto x-key-id);
    GET /open and GET /open2 need nothing."""
    mapped = integration("pass", "http://backend", requestParameters={
        "overwrite:header.x-key-id": "$context.identity.apiKeyId"})
    routes = [
        {"routeKey": "GET /keyed", "target": "pass", "apiKeyRequired": True},
        {"routeKey": "GET /keyed-slow", "target": "pass", "apiKeyRequired": True},
        {"routeKey": "GET /open", "target": "pass"},
        {"routeKey": "GET /open2", "target": "pass"},
    ] + list(extra_routes)
    return api(integrations=[mapped], routes=routes, stages=[stage or {"stageName": "$default"}])


def plan(**extra):
    p = {"id": "planit", "name": "it-plan", "apiStages": [{"api": "main", "stage": "$default"}],
         "apiKeys": ["alpha", "beta", "gamma", "disabled"]}
    p.update(extra)
    return p


def traffic_config(upstream, stage=None, settings=None, plans=None, extra_routes=(), **extra):
    return config([upstream.port], apis=[traffic_api(stage, extra_routes)], settings=settings,
                  apiKeys=api_keys(), usagePlans=plans if plans is not None else [plan()], **extra)


def count_admitted(responses, refused_body=TOO_MANY):
    """Admitted (200) responses; every other one must be a 429 with the exact body and a
    Retry-After of a whole number of seconds."""
    admitted = 0
    for r in responses:
        if r.status == 200:
            admitted += 1
            continue
        assert (r.status, r.body) == (429, refused_body), r
        if refused_body == TOO_MANY:
            retry_after = r.header("retry-after")
            assert retry_after is not None and re.fullmatch(r"\d+", retry_after), r
            assert 1 <= int(retry_after) <= 2, r  # every bucket here refills at least 1/s
    return admitted


def key_header(value):
    return {"x-api-key": value}


# -- API keys -----------------------------------------------------------------------------------


def test_valid_api_key_is_admitted_and_its_key_id_is_available_to_parameter_mapping(gateway_factory, upstream):
    gw = gateway_factory(traffic_config(upstream))
    r = requests.get(gw.url + "/keyed", headers=key_header(ALPHA), timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert header_values(r.json(), "x-key-id") == ["keyalpha"]
    # A route without apiKeyRequired needs no key.
    assert requests.get(gw.url + "/open", timeout=TIMEOUT).status_code == 200


def test_api_key_value_can_come_from_the_environment(gateway_factory, upstream, monkeypatch):
    monkeypatch.setenv("TURNPIKE_IT_KEY", "from-env-0123456789abcdef")
    cfg = traffic_config(upstream)
    cfg["apiKeys"].append({"id": "keyenv", "name": "from-env", "valueFrom": "env:TURNPIKE_IT_KEY"})
    cfg["usagePlans"][0]["apiKeys"].append("from-env")
    gw = gateway_factory(cfg)
    r = requests.get(gw.url + "/keyed", headers=key_header("from-env-0123456789abcdef"), timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert header_values(r.json(), "x-key-id") == ["keyenv"]


def test_missing_unknown_disabled_or_planless_api_key_gets_403_forbidden(gateway_factory, upstream):
    gw = gateway_factory(traffic_config(upstream))
    cases = {
        "missing": {},
        "unknown": key_header("unknown-key-0123456789abcdef"),
        "disabled": key_header(DISABLED),
        "in no usage plan": key_header(PLANLESS),
        "value of another key's prefix": key_header(ALPHA[:-1]),
    }
    for what, headers in cases.items():
        r = requests.get(gw.url + "/keyed", headers=headers, timeout=TIMEOUT)
        assert (r.status_code, r.content) == (403, FORBIDDEN), what
    assert upstream.stats()["requests"] == 0
    assert requests.get(gw.url + "/keyed", headers=key_header(ALPHA), timeout=TIMEOUT).status_code == 200


# -- throttles ----------------------------------------------------------------------------------


def test_stage_route_throttle_admits_the_burst_then_the_steady_rate_and_route_settings_override_it(
        gateway_factory, upstream):
    stage = {"stageName": "$default",
             "defaultRouteSettings": {"throttlingBurstLimit": 5, "throttlingRateLimit": 1},
             "routeSettings": {"GET /open2": {"throttlingBurstLimit": 2, "throttlingRateLimit": 1}}}
    gw = gateway_factory(traffic_config(upstream, stage=stage))
    with KeepAliveClient(gw.port) as client:
        first = count_admitted(client.burst("/open", 30))
        assert 5 <= first <= 6, first
        override = count_admitted(client.burst("/open2", 10))
        assert 2 <= override <= 3, override
        time.sleep(2)
        # Two seconds at 1 request/s: two more (a third only if the loop itself took a second).
        later = count_admitted(client.burst("/open", 10))
        assert 2 <= later <= 3, later
    assert upstream.stats()["requests"] == first + override + later


def test_usage_plan_throttles_each_key_separately_with_a_per_route_override(gateway_factory, upstream):
    plans = [plan(throttle={"burstLimit": 4, "rateLimit": 1},
                  apiStages=[{"api": "main", "stage": "$default",
                              "throttle": {"GET /keyed-slow": {"burstLimit": 2, "rateLimit": 1}}}])]
    gw = gateway_factory(traffic_config(upstream, plans=plans))
    with KeepAliveClient(gw.port) as client:
        alpha = count_admitted(client.burst("/keyed", 12, key_header(ALPHA)))
        beta = count_admitted(client.burst("/keyed", 12, key_header(BETA)))
        gamma_slow = count_admitted(client.burst("/keyed-slow", 10, key_header(GAMMA)))
        # Routes without a key are not limited by any key's plan.
        unkeyed = count_admitted(client.burst("/open", 20))
    assert 4 <= alpha <= 5, alpha
    assert 4 <= beta <= 5, beta
    assert 2 <= gamma_slow <= 3, gamma_slow
    assert unkeyed == 20


def test_client_ip_throttle_limits_each_client_address_separately(gateway_factory, upstream):
    gw = gateway_factory(traffic_config(upstream, settings={"clientIpThrottle": {"burstLimit": 3, "rateLimit": 1}}))
    with KeepAliveClient(gw.port, source_ip="127.0.0.1") as one, KeepAliveClient(gw.port, source_ip="127.0.0.2") as two:
        first = count_admitted(one.burst("/open", 10))
        same_ip_other_route = count_admitted(one.burst("/open2", 5))
        other_ip = count_admitted(two.burst("/open2", 10))
    assert 3 <= first <= 4, first
    assert same_ip_other_route <= 1, same_ip_other_route  # one IP, one bucket, whatever the route
    assert 3 <= other_ip <= 4, other_ip
    assert first + same_ip_other_route <= 4


def test_account_throttle_is_shared_by_every_route_client_and_worker(gateway_factory, upstream):
    gw = gateway_factory(traffic_config(upstream, settings={"throttle": {"burstLimit": 6, "rateLimit": 1}}))
    results = []
    errors = []

    def client(ip, path):
        try:
            with KeepAliveClient(gw.port, source_ip=ip) as c:
                results.append(count_admitted(c.burst(path, 10)))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=client, args=("127.0.0.%d" % (i + 1), "/open" if i % 2 else "/open2"))
               for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=TIMEOUT * 2)
    assert not errors, errors
    assert len(results) == 4
    assert 6 <= sum(results) <= 7, results
    assert upstream.stats()["requests"] == sum(results)


# -- quotas -------------------------------------------------------------------------------------


def today():
    return datetime.now(timezone.utc).date().isoformat()


def test_quota_gives_limit_exceeded_and_survives_a_restart_and_admin_usage_reports_it(
        gateway_factory, upstream, tmp_path):
    store = tmp_path / "quota" / "usage.sqlite"
    store.parent.mkdir()
    plans = [plan(quota={"limit": 3, "period": "DAY", "offset": 0})]
    cfg = traffic_config(upstream, plans=plans, settings={"quotaStorePath": str(store)})
    gw = gateway_factory(cfg)
    with KeepAliveClient(gw.port) as client:
        used = client.burst("/keyed", 3, key_header(ALPHA))
        assert [r.status for r in used] == [200, 200, 200], used
        over = client.get("/keyed", key_header(ALPHA))
        assert (over.status, over.body) == (429, LIMIT_EXCEEDED), over
        # The quota is per key: another key of the plan is not affected.
        assert client.get("/keyed", key_header(BETA)).status == 200
    assert gw.terminate() == 0  # SIGTERM: the counts are flushed
    gw.exit_checked = True

    again = gateway_factory(cfg)  # same config, same quota store
    r = requests.get(again.url + "/keyed", headers=key_header(ALPHA), timeout=TIMEOUT)
    assert (r.status_code, r.content) == (429, LIMIT_EXCEEDED)
    beta = requests.get(again.url + "/keyed", headers=key_header(BETA), timeout=TIMEOUT)
    assert beta.status_code == 200  # beta's 2nd of 3

    day = today()
    usage = requests.get(again.admin_url + "/admin/usage", timeout=TIMEOUT, params={
        "usagePlanId": "planit", "keyId": "keyalpha", "startDate": day, "endDate": day})
    assert usage.status_code == 200, usage.text
    assert usage.json() == {"usagePlanId": "planit", "startDate": day, "endDate": day,
                            "values": {"keyalpha": [[3, 0]]}}
    # usagePlanId may be left out when the key is in exactly one plan.
    implied = requests.get(again.admin_url + "/admin/usage", timeout=TIMEOUT,
                           params={"keyId": "keybeta", "startDate": day, "endDate": day})
    assert implied.status_code == 200, implied.text
    assert implied.json()["values"] == {"keybeta": [[2, 1]]}


# -- access log ---------------------------------------------------------------------------------


def test_access_log_has_the_api_key_id_a_jwt_claim_and_the_authorizer_error(gateway_factory, upstream, tmp_path):
    key = SigningKey("rsa-log", "RS256")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [key.jwk()]}))
    issuer = "https://idp.turnpike.test/realms/log"
    authorizer = {"name": "idp", "authorizerType": "JWT", "identitySource": ["$request.header.Authorization"],
                  "jwtConfiguration": {"issuer": issuer, "audience": ["log-tests"], "jwksUri": "file://" + str(jwks)}}
    both = {"routeKey": "GET /both", "target": "pass", "authorizationType": "JWT", "authorizer": "idp",
            "apiKeyRequired": True}
    fmt = ("$context.requestId key=$context.identity.apiKeyId sub=$context.authorizer.claims.sub "
           "status=$context.status error=$context.authorizer.error")
    cfg = traffic_config(upstream, extra_routes=[both], authorizers=[authorizer],
                         settings={"accessLog": {"enabled": True, "destination": "file://./access.log", "format": fmt}})
    gw = gateway_factory(cfg)
    good_token = key.token(claims(issuer, audience="log-tests", sub="carol-7"))
    expired = key.token(claims(issuer, audience="log-tests", sub="late", lifetime=-3600))
    ok = requests.get(gw.url + "/both", headers={"Authorization": "Bearer " + good_token, "x-api-key": ALPHA},
                      timeout=TIMEOUT)
    late = requests.get(gw.url + "/both", headers={"Authorization": "Bearer " + expired, "x-api-key": ALPHA},
                        timeout=TIMEOUT)
    keyless = requests.get(gw.url + "/both", headers={"Authorization": "Bearer " + good_token}, timeout=TIMEOUT)
    assert (ok.status_code, late.status_code, keyless.status_code) == (200, 401, 403)

    def lines():
        path = gw.workdir / "access.log"
        found = path.read_text().splitlines() if path.exists() else []
        return found if len(found) >= 3 else None

    logged = {line.split(" ", 1)[0]: line for line in wait_until(lines, 5, message="3 access log lines")}
    assert logged[ok.headers["apigw-requestid"]].split(" ", 1)[1] == "key=keyalpha sub=carol-7 status=200 error=-"
    assert logged[late.headers["apigw-requestid"]].split(" ", 1)[1] == \
        "key=- sub=- status=401 error=the token has expired"
    refused = logged[keyless.headers["apigw-requestid"]]
    assert " key=- " in refused and " status=403 " in refused, refused
    assert "error=-" not in refused, refused  # why it was refused is logged


def test_usage_counts_only_admitted_requests_and_is_queryable_while_serving(gateway_factory, upstream):
    plans = [plan(throttle={"burstLimit": 2, "rateLimit": 1}, quota={"limit": 100, "period": "MONTH", "offset": 0})]
    gw = gateway_factory(traffic_config(upstream, plans=plans))
    with KeepAliveClient(gw.port) as client:
        admitted = count_admitted(client.burst("/keyed", 10, key_header(ALPHA)))
    assert 2 <= admitted <= 3
    day = today()

    def usage():
        r = requests.get(gw.admin_url + "/admin/usage", timeout=TIMEOUT,
                         params={"keyId": "keyalpha", "startDate": day, "endDate": day})
        assert r.status_code == 200, r.text
        return r.json()["values"]

    # Throttled requests are not counted against the quota.
    wait_until(lambda: usage() == {"keyalpha": [[admitted, 100 - admitted]]}, 5, message="usage of the admitted requests")


def test_admin_usage_answers_bad_queries_with_400_or_404(gateway_factory, upstream):
    gw = gateway_factory(traffic_config(upstream, plans=[plan(quota={"limit": 5, "period": "DAY", "offset": 0})]))
    day = today()

    def query(**params):
        r = requests.get(gw.admin_url + "/admin/usage", params=params, timeout=TIMEOUT)
        return r.status_code, r.json()["message"] if r.status_code != 200 else r.json()

    assert query(keyId="keyalpha")[0] == 400  # no dates
    assert query(usagePlanId="nope", startDate=day, endDate=day) == (404, "Invalid Usage Plan ID specified: nope")
    assert query(keyId="keyplanless", startDate=day, endDate=day)[0] == 400  # in no plan: the plan cannot be implied
    assert query(usagePlanId="planit", startDate="2024-13-01", endDate=day)[0] == 400
    assert query(usagePlanId="planit", startDate=day, endDate="2000-01-01")[0] == 400
    status, report = query(usagePlanId="planit", startDate=day, endDate=day)
    assert status == 200
    assert report["values"] == {k: [[0, 5]] for k in ("keyalpha", "keybeta", "keydisabled", "keygamma")}


def test_quota_is_kept_across_a_config_reload(gateway_factory, upstream):
    gw = gateway_factory(traffic_config(upstream, plans=[plan(quota={"limit": 2, "period": "DAY", "offset": 0})]))
    with KeepAliveClient(gw.port) as client:
        assert statuses(client.burst("/keyed", 3, key_header(ALPHA))) == [200, 200, 429]
    r = gw.reload_admin()
    assert r.status_code == 200, r.text
    again = requests.get(gw.url + "/keyed", headers=key_header(ALPHA), timeout=TIMEOUT)
    assert (again.status_code, again.content) == (429, LIMIT_EXCEEDED)
