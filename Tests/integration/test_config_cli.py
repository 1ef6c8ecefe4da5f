"""The command line: `turnpike validate` and `turnpike serve` on good and bad files."""

import json
import subprocess
import textwrap

import pytest
import requests

from conftest import ROOT, free_port
from helpers import TIMEOUT, config

GOOD = textwrap.dedent("""\
    listeners:
      - name: public
        port: {port}
    targetGroups:
      - name: backend
        endpoints: ["127.0.0.1:{upstream}"]
        healthCheck:
          path: /healthz
          intervalSeconds: 5
    apis:
      - name: main
        integrations:
          - name: pass
            integrationType: HTTP_PROXY
            integrationUri: http://backend
        routes:
          - routeKey: $default
            target: pass
        stages:
          - stageName: $default
    """)


def run(turnpike_bin, *args, timeout=TIMEOUT):
    return subprocess.run([turnpike_bin, *args], capture_output=True, text=True, timeout=timeout)


def write(tmp_path, text, name="turnpike.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_validate_accepts_a_good_file(turnpike_bin, tmp_path):
    path = write(tmp_path, GOOD.format(port=8080, upstream=9001))
    out = run(turnpike_bin, "validate", path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(path + ": valid")
    assert out.stderr == ""


def test_validate_accepts_the_shipped_example(turnpike_bin):
    out = run(turnpike_bin, "validate", str(ROOT / "examples" / "turnpike.yaml"))
    assert out.returncode == 0, out.stderr


def test_validate_names_file_line_column_and_key_path_of_a_typo(turnpike_bin, tmp_path):
    text = GOOD.format(port=8080, upstream=9001).replace("intervalSeconds: 5", "intervalSecond: 5")
    path = write(tmp_path, text)
    out = run(turnpike_bin, "validate", path)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith(path + ":9:7: targetGroups[0].healthCheck.intervalSecond: unknown key \"intervalSecond\"")
    assert "intervalSeconds" in lines[0]
    assert out.stdout == ""


def test_validate_reports_every_problem_at_once(turnpike_bin, tmp_path):
    text = (GOOD.format(port=8080, upstream=9001)
            .replace("listeners:", "listners:")
            .replace("target: pass", "target: nothing")
            .replace("integrationUri: http://backend", "integrationUri: http://nogroup/x"))
    path = write(tmp_path, text)
    out = run(turnpike_bin, "validate", path)
    assert out.returncode == 2
    err = out.stderr
    assert path + ":1:1: listners: unknown key \"listners\"" in err, err
    assert path + ":15:25: apis[0].integrations[0].integrationUri:" in err, err
    assert path + ":18:17: apis[0].routes[0].target:" in err and "nothing" in err, err


def test_validate_of_a_missing_file_exits_2_and_names_it(turnpike_bin, tmp_path):
    path = str(tmp_path / "absent.yaml")
    out = run(turnpike_bin, "validate", path)
    assert out.returncode == 2
    assert path in out.stderr


def test_validate_of_broken_yaml_exits_2_with_a_position(turnpike_bin, tmp_path):
    path = write(tmp_path, "listeners:\n  - name: [unclosed\n")
    out = run(turnpike_bin, "validate", path)
    assert out.returncode == 2
    assert out.stderr.startswith(path + ":"), out.stderr


def test_serve_refuses_a_bad_file_with_exit_2_and_the_same_errors(turnpike_bin, tmp_path):
    port = free_port()
    text = GOOD.format(port=port, upstream=9001).replace("routeKey: $default", "routeKey: FETCH /x")
    path = write(tmp_path, text)
    out = run(turnpike_bin, "serve", "--config", path)
    assert out.returncode == 2
    assert out.stderr.startswith(path + ":17:19: apis[0].routes[0].routeKey: unknown method \"FETCH\""), out.stderr
    assert run(turnpike_bin, "validate", path).stderr == out.stderr


def test_json_config_is_served_like_yaml(turnpike_bin, tmp_path, upstream):
    port = free_port()
    cfg = config([upstream.port])
    cfg["listeners"] = [{"name": "public", "port": port, "defaultApi": "main"}]
    path = write(tmp_path, json.dumps(cfg, indent=2), name="turnpike.json")
    assert run(turnpike_bin, "validate", path).returncode == 0
    proc = subprocess.Popen([turnpike_bin, "serve", "--config", path, "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        from helpers import wait_until

        def answers():
            try:
                return requests.get("http://127.0.0.1:%d/echo/json" % port, timeout=1).json()["path"]
            except requests.RequestException:
                return None

        assert wait_until(answers, TIMEOUT, message="the JSON-configured gateway") == "/echo/json"
    finally:
        proc.terminate()
        assert proc.wait(timeout=TIMEOUT) == 0


def test_help_lists_the_subcommands(turnpike_bin):
    out = run(turnpike_bin, "--help")
    assert out.returncode == 0
    assert "serve" in out.stdout and "validate" in out.stdout


@pytest.mark.parametrize("args", [["serve"], ["serve", "--config", "x.yaml", "--workers", "0"], ["frobnicate"]])
def test_bad_command_lines_are_usage_errors(turnpike_bin, args):
    out = run(turnpike_bin, *args)
    assert out.returncode == 64
    assert out.stderr
