"""REST APIs (protocolType: REST) in front of an HTTP upstream: REST's request id field and errors."""

import requests

from helpers import TIMEOUT, api, config, integration


def test_rest_api_proxy_answers_carry_x_amzn_request_id(gateway_factory, upstream):
    rest = api(integrations=[integration("pass", "http://backend/echo/{id}")],
               routes=[{"routeKey": "GET /items/{id}", "target": "pass"}], stages=[{"stageName": "prod"}])
    rest["protocolType"] = "REST"
    gw = gateway_factory(config([upstream.port], apis=[rest]))
    r = requests.get(gw.url + "/prod/items/5", timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.headers["x-amzn-RequestId"]
    assert "apigw-requestid" not in r.headers
    missing = requests.get(gw.url + "/prod/other", timeout=TIMEOUT)
    assert missing.status_code == 403
    assert missing.json() == {"message": "Missing Authentication Token"}
    wrong_method = requests.post(gw.url + "/prod/items/5", timeout=TIMEOUT)
    assert wrong_method.status_code == 403
    assert wrong_method.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
