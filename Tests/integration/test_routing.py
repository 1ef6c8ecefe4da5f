"""Route matching, stage and API selection, custom domains, and path/query/header mappings."""

import pytest
import requests

from helpers import TIMEOUT, api, config, header_names, header_values, integration

NOT_FOUND = b'{"message":"Not Found"}'
FORBIDDEN = b'{"message":"Forbidden"}'


def routed_api(name="main", api_id="itapi01", default_route=True, stages=None):
    integrations = [
        integration("proxy", "http://backend/echo/proxy/{proxy}"),
        integration("pet", "http://backend/echo/pet/{petId}", requestParameters={
            "overwrite:header.x-pet-id": "$request.path.petId",
            "overwrite:header.x-stage": "$context.stage",
            "overwrite:header.x-route": "$context.routeKey",
        }),
        integration("pet-list", "http://backend/echo/pet-list"),
        integration("any-pet", "http://backend/echo/any-pet/{petId}"),
        integration("fallback", "http://backend/echo/fallback"),
    ]
    routes = [
        {"routeKey": "ANY /{proxy+}", "target": "proxy"},
        {"routeKey": "GET /pets/{petId}", "target": "integrations/pet"},
        {"routeKey": "GET /pets/list", "target": "pet-list"},
        {"routeKey": "ANY /pets/{petId}", "target": "any-pet"},
    ]
    if default_route:
        routes.append({"routeKey": "$default", "target": "fallback"})
    return api(name=name, api_id=api_id, integrations=integrations, routes=routes,
               stages=stages or [{"stageName": "$default"}, {"stageName": "prod"}])


@pytest.fixture
def gw(gateway_factory, upstream):
    other = api(name="other", api_id="otherapi9", integrations=[integration("o", "http://backend/echo/other/{proxy}")],
                routes=[{"routeKey": "ANY /{proxy+}", "target": "o"}],
                stages=[{"stageName": "$default"}])
    cfg = config([upstream.port], apis=[routed_api(), other], domainNames=[
        {"domainName": "api.example.test", "apiMappings": [
            {"apiMappingKey": "v1", "api": "main", "stage": "prod"},
            {"apiMappingKey": "orders/v2", "api": "other", "stage": "$default"},
        ]},
        {"domainName": "root.example.test", "apiMappings": [
            {"apiMappingKey": "", "api": "main", "stage": "$default"},
        ]},
    ])
    return gateway_factory(cfg)


def get(gw, path, **kw):
    kw.setdefault("timeout", TIMEOUT)
    return requests.get(gw.url + path, **kw)


def test_path_parameter_route_substitutes_integration_uri_and_maps_headers(gw):
    r = get(gw, "/pets/7")
    assert r.status_code == 200
    echo = r.json()
    assert echo["path"] == "/echo/pet/7"
    assert header_values(echo, "x-pet-id") == ["7"]
    assert header_values(echo, "x-stage") == ["$default"]
    assert header_values(echo, "x-route") == ["GET /pets/{petId}"]


def test_exact_path_beats_path_variable(gw):
    assert get(gw, "/pets/list").json()["path"] == "/echo/pet-list"


def test_method_route_beats_any_route(gw):
    assert get(gw, "/pets/9").json()["path"] == "/echo/pet/9"
    r = requests.post(gw.url + "/pets/9", data=b"x", timeout=TIMEOUT)
    assert r.json()["path"] == "/echo/any-pet/9"
    assert r.json()["method"] == "POST"


def test_greedy_proxy_route_substitutes_the_rest_of_the_path(gw):
    r = get(gw, "/a/b/c?k=v&k=w")
    assert r.json()["path"] == "/echo/proxy/a/b/c"
    assert r.json()["query"] == "k=v&k=w"


def test_default_route_catches_what_no_route_matches(gw):
    r = get(gw, "/")
    assert r.status_code == 200
    assert r.json()["path"] == "/echo/fallback"


def test_first_path_segment_naming_a_stage_selects_it_and_is_stripped(gw):
    r = get(gw, "/prod/pets/5")
    assert r.status_code == 200
    echo = r.json()
    assert echo["path"] == "/echo/pet/5"
    assert header_values(echo, "x-stage") == ["prod"]


def test_unknown_first_segment_falls_to_default_stage(gw):
    r = get(gw, "/staging/pets/5")
    assert r.json()["path"] == "/echo/proxy/staging/pets/5"


def test_execute_api_host_selects_the_api_by_id(gw):
    r = get(gw, "/anything/here", headers={"Host": "otherapi9.execute-api.localhost"})
    assert r.status_code == 200
    assert r.json()["path"] == "/echo/other/anything/here"
    r = get(gw, "/pets/3", headers={"Host": "itapi01.execute-api.us-east-1.amazonaws.com:%d" % gw.port})
    assert r.json()["path"] == "/echo/pet/3"


def test_unknown_execute_api_id_without_default_api_is_404(gateway_factory, upstream):
    gw = gateway_factory(config([upstream.port], apis=[routed_api()]), default_api=None)
    r = get(gw, "/pets/1", headers={"Host": "nosuchapi.execute-api.localhost"})
    assert r.status_code == 404
    assert r.content == NOT_FOUND
    assert r.headers["apigw-requestid"]
    assert get(gw, "/pets/1", headers={"Host": "itapi01.execute-api.localhost"}).json()["path"] == "/echo/pet/1"


def test_no_matching_route_and_no_default_route_is_404_not_found(gateway_factory, upstream):
    cfg = config([upstream.port], apis=[api(
        integrations=[integration("only", "http://backend/echo/only")],
        routes=[{"routeKey": "GET /only", "target": "only"}])])
    gw = gateway_factory(cfg)
    assert get(gw, "/only").json()["path"] == "/echo/only"
    for method, path in [("GET", "/other"), ("POST", "/only"), ("GET", "/only/more")]:
        r = requests.request(method, gw.url + path, timeout=TIMEOUT)
        assert (r.status_code, r.content) == (404, NOT_FOUND), (method, path)
        assert r.headers["content-type"] == "application/json"
        assert r.headers["apigw-requestid"]


def test_custom_domain_base_path_mapping_selects_api_and_stage(gw):
    r = get(gw, "/v1/pets/11", headers={"Host": "api.example.test"})
    assert r.status_code == 200
    assert r.json()["path"] == "/echo/pet/11"
    assert header_values(r.json(), "x-stage") == ["prod"]
    r = get(gw, "/orders/v2/list", headers={"Host": "API.Example.Test:%d" % gw.port})
    assert r.status_code == 200
    assert r.json()["path"] == "/echo/other/list"


def test_custom_domain_without_a_matching_mapping_is_403_forbidden(gw):
    for path in ["/v2/pets/1", "/", "/orders/v3/x", "/v1x/pets/1"]:
        r = get(gw, path, headers={"Host": "api.example.test"})
        assert (r.status_code, r.content) == (403, FORBIDDEN), path
        assert r.headers["apigw-requestid"]


def test_custom_domain_empty_mapping_key_serves_the_root(gw):
    r = get(gw, "/pets/4", headers={"Host": "root.example.test"})
    assert r.json()["path"] == "/echo/pet/4"


def test_request_parameter_mappings_rewrite_path_query_and_headers(gateway_factory, upstream):
    mapped = integration("mapped", "http://backend", requestParameters={
        "overwrite:path": "/echo/v2$request.path",
        "append:querystring.q": "1",
        "overwrite:querystring.mode": "fixed",
        "remove:querystring.drop": "",
        "overwrite:header.x-request-id": "$context.requestId",
        "append:header.x-tags": "gw",
        "remove:header.x-secret": "",
        "overwrite:header.x-from-query": "$request.querystring.name",
        "overwrite:header.x-from-header": "copy-$request.header.x-source",
    })
    cfg = config([upstream.port], apis=[api(integrations=[mapped],
                                            routes=[{"routeKey": "$default", "target": "mapped"}])])
    gw = gateway_factory(cfg)
    r = get(gw, "/items/9?name=bob&drop=me&mode=client&q=0", headers={
        "x-secret": "s3cr3t", "x-tags": "client", "x-source": "abc"})
    assert r.status_code == 200
    echo = r.json()
    assert echo["path"] == "/echo/v2/items/9"
    query = echo["query"].split("&")
    assert "drop=me" not in query
    assert "name=bob" in query
    assert "mode=fixed" in query and "mode=client" not in query
    assert [p for p in query if p.startswith("q=")] == ["q=0", "q=1"]
    assert "x-secret" not in header_names(echo)
    assert header_values(echo, "x-request-id") == [r.headers["apigw-requestid"]]
    assert header_values(echo, "x-tags") == ["client,gw"]
    assert header_values(echo, "x-from-query") == ["bob"]
    assert header_values(echo, "x-from-header") == ["copy-abc"]


def test_integration_uri_without_path_passes_the_client_path_after_the_stage(gateway_factory, upstream):
    cfg = config([upstream.port], apis=[api(
        integrations=[integration("pass", "http://backend/")],
        stages=[{"stageName": "$default"}, {"stageName": "beta"}])])
    gw = gateway_factory(cfg)
    assert get(gw, "/beta/echo/x?y=1").json()["path"] == "/echo/x"
    assert get(gw, "/beta/echo/x?y=1").json()["query"] == "y=1"
    assert get(gw, "/echo/z").json()["path"] == "/echo/z"
