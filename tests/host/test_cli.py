"""`python -m local.host` as a subprocess through the `run_host` fixture: HTTP routing and auth levels,
settings precedence, log scopes, start-up errors and SIGTERM shutdown."""

import json
import re
import shutil
import subprocess
import sys

import pytest
import requests

from tests.fixtures.host import REPO_ROOT
from tests.fixtures.waiting import wait_for
from tests.host.conftest import APPS

TIMEOUT = 10


@pytest.fixture(scope="module")
def http_host(run_host, tmp_path_factory):
    """http_app copied next to a local.settings.json; one setting is overridden by the environment."""
    app_dir = tmp_path_factory.mktemp("http_app")
    shutil.copytree(APPS / "http_app", app_dir, dirs_exist_ok=True)
    (app_dir / "local.settings.json").write_text(
        json.dumps(
            {
                "IsEncrypted": False,
                "Values": {"FROM_FILE": "file value", "OVERRIDDEN": "file value"},
                "Host": {"LocalHttpPort": 1},  # --port 0 wins
            }
        )
    )
    with run_host(app_dir, {"OVERRIDDEN": "environment value"}) as host:
        yield host


def get(host, path, **kwargs):
    return requests.get(host.url(path), timeout=TIMEOUT, **kwargs)


def test_ready_line_lists_the_functions(http_host):
    assert http_host.port not in (0, 1)
    assert http_host.functions[:3] == ("hello", "item", "files")


def test_anonymous_function_is_open_and_logs_with_its_invocation_scope(http_host):
    response = get(http_host, "api/hello/ada")
    assert response.status_code == 200
    assert response.text == "hello ada"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    logs = wait_for(lambda: "greeting ada" in http_host.logs() and http_host.logs(), what="function log")
    scope = re.search(r"\[hello ([0-9a-f]{8})\] greeting ada", logs)
    assert scope, logs
    assert re.search(
        rf"Executed 'Functions.hello' \(Succeeded, Id={scope.group(1)}[0-9a-f-]+, Duration=\d+ms\)", logs
    )


def test_function_level_requires_the_key(http_host):
    assert get(http_host, "api/items/7").status_code == 401
    assert get(http_host, "api/items/7", params={"code": "wrong"}).status_code == 401
    by_code = get(http_host, "api/items/7", params={"code": http_host.function_key, "tag": "x"})
    assert by_code.status_code == 201
    assert by_code.json() == {
        "id": "7",
        "method": "GET",
        "params": {"code": http_host.function_key, "tag": "x"},
    }
    by_header = requests.post(
        http_host.url("api/items/8"), headers={"x-functions-key": http_host.function_key}, timeout=TIMEOUT
    )
    assert by_header.status_code == 201
    assert by_header.json()["method"] == "POST"


def test_admin_level_requires_the_key_and_route_defaults_to_the_function_name(http_host):
    assert get(http_host, "api/admin_only").status_code == 401
    response = get(http_host, "api/admin_only", headers={"x-functions-key": http_host.function_key})
    assert (response.status_code, response.text) == (200, "admin ok")


def test_routing_constraints_methods_and_precedence(http_host):
    key = {"code": http_host.function_key}
    assert get(http_host, "api/items/seven", params=key).status_code == 404  # {id:int}
    assert requests.delete(http_host.url("api/items/7"), params=key, timeout=TIMEOUT).status_code == 405
    assert get(http_host, "api/files/readme").text == "the readme"  # literal beats the catch-all
    assert get(http_host, "api/files/a/b.txt").text == "file a/b.txt"
    assert get(http_host, "api/optional").text == "<none>"
    assert get(http_host, "api/optional/x").text == "x"
    assert get(http_host, "hello/ada").status_code == 404  # routePrefix is required


def test_async_function_with_context(http_host):
    response = requests.post(http_host.url("api/echo"), data=b"\x00\x01payload", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.content == b"\x00\x01payload"
    assert response.headers["x-function"] == "echo"
    assert f"Id={response.headers['x-invocation-id']}" in http_host.logs()


def test_failures_are_500(http_host):
    assert get(http_host, "api/broken").status_code == 500
    assert get(http_host, "api/nothing").status_code == 500  # None is not an HTTP response
    assert "ValueError: broken on purpose" in http_host.logs()


def test_environment_wins_over_local_settings(http_host):
    assert get(http_host, "api/setting/FROM_FILE").text == "file value"
    assert get(http_host, "api/setting/OVERRIDDEN").text == "environment value"


def test_unsupported_trigger_fails_start_up_naming_the_function():
    result = subprocess.run(
        [sys.executable, "-m", "local.host", "--app-dir", str(APPS / "bad_app"), "--port", "0"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "function 'on_upload'" in result.stderr
    assert "blobTrigger" in result.stderr
    assert "Host started" not in result.stdout


def test_sigterm_lets_the_invocation_in_progress_finish_and_exits_zero(
    run_host, queues, outbox, storage_connection_string
):
    env = {"AzureWebJobsStorage": storage_connection_string, "WORK_QUEUE": queues.name}
    with run_host(APPS / "queue_app", env) as host:
        queues.send({"action": "slow", "seconds": 1.5})
        wait_for(lambda: outbox.events("started"), what="the invocation to start")
        assert host.stop() == 0
        assert outbox.events("succeeded"), host.logs()
        assert queues.remaining() == 0
        logs = host.logs()
    assert logs.index("Stopping the host") < logs.index("Executed 'Functions.work' (Succeeded")
    assert "Host stopped" in logs


def test_azurite_option_provides_storage(run_host, outbox, monkeypatch):
    """timer_app needs AzureWebJobsStorage (schedule status); --azurite starts one when none is set."""
    monkeypatch.delenv("AzureWebJobsStorage", raising=False)
    env = {"HOURLY_SCHEDULE": "0 0 * * * *", "HOST_TEST_OUTBOX": str(outbox.path)}
    with run_host(APPS / "timer_app", env, args=["--azurite"]) as host:
        wait_for(lambda: outbox.events("at_startup"), what="the run-on-startup invocation")
        assert "Azurite started for AzureWebJobsStorage" in host.logs()
