"""A stage's own accessLogSettings: its requests are logged to its destination in its format,
while other stages keep the global log (issue 5: stages have their own access log settings)."""

import time

import requests

from helpers import TIMEOUT, api, config, integration, wait_until


def test_stage_access_log_settings_override_the_global_log(gateway_factory, upstream, tmp_path):
    stage_log = tmp_path / "prod.log"
    global_log = tmp_path / "global.log"
    cfg = config(
        [upstream.port],
        settings={"accessLog": {"enabled": True, "destination": f"file://{global_log}",
                                "format": "global $context.stage $context.status"}},
        apis=[api(
            integrations=[integration("up", "http://backend")],
            routes=[{"routeKey": "$default", "target": "up"}],
            stages=[{"stageName": "$default"},
                    {"stageName": "prod",
                     "accessLogSettings": {"destination": f"file://{stage_log}",
                                           "format": "prod $context.requestId $context.status"}}])])
    gw = gateway_factory(cfg)
    a = requests.get(gw.url + "/prod/echo/one", timeout=TIMEOUT)
    b = requests.get(gw.url + "/echo/two", timeout=TIMEOUT)
    assert a.status_code == 200 and b.status_code == 200
    wait_until(lambda: stage_log.exists() and stage_log.read_text().strip()
               and global_log.exists() and global_log.read_text().strip(), 5, message="log lines")
    assert stage_log.read_text().splitlines() == [f"prod {a.headers['apigw-requestid']} 200"]
    assert global_log.read_text().splitlines() == ["global $default 200"]
