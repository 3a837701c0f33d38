"""Start-up validation and clean-up of the in-process Host."""

import json
import os
import shutil
import sys

import pytest

from local.host import Host, HostStartupError
from tests.host.conftest import APPS


def test_unsupported_trigger_is_a_start_up_error_naming_the_function():
    with pytest.raises(HostStartupError, match=r"function 'on_upload': trigger type 'blobTrigger'"):
        Host(APPS / "bad_app", port=0).start()
    assert "function_app" not in sys.modules
    assert str(APPS / "bad_app") not in sys.path


def test_disabled_functions_are_not_indexed(in_process_host, monkeypatch):
    monkeypatch.setenv("AzureWebJobs.on_upload.Disabled", "true")
    with in_process_host("bad_app") as host:
        assert host.functions == ("fine",)
        assert host.disabled_functions == ("on_upload",)


def test_missing_storage_connection_names_the_function_and_setting(monkeypatch):
    monkeypatch.delenv("AzureWebJobsStorage", raising=False)
    monkeypatch.setenv("WORK_QUEUE", "some-queue")
    with pytest.raises(HostStartupError, match=r"function 'work': connection 'AzureWebJobsStorage'"):
        Host(APPS / "queue_app", port=0).start()


def test_missing_setting_reference_names_the_setting(monkeypatch):
    monkeypatch.delenv("WORK_QUEUE", raising=False)
    with pytest.raises(HostStartupError, match=r"function 'work': app setting 'WORK_QUEUE'"):
        Host(APPS / "queue_app", port=0).start()


def test_local_settings_are_applied_for_the_run_and_removed_after(tmp_path, monkeypatch):
    monkeypatch.delenv("LOCAL_HOST_FUNCTION_KEY", raising=False)
    app_dir = tmp_path / "app"
    shutil.copytree(APPS / "http_app", app_dir)
    settings = tmp_path / "elsewhere.json"
    settings.write_text(json.dumps({"Values": {"HOST_TEST_ONLY_SETTING": "yes"}}))
    with Host(app_dir, port=0, settings_path=settings) as host:
        assert os.environ["HOST_TEST_ONLY_SETTING"] == "yes"
        assert host.function_key_generated
        assert host.port > 0
    assert "HOST_TEST_ONLY_SETTING" not in os.environ
