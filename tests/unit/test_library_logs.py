"""The app keeps the Azure SDK's per-request INFO lines out of the function log by itself.

In Azure the Python worker forwards every record at the host's level to Application Insights; the local host
quiets the SDK for its own clients, so this runs the app's runtime in a plain process, as the worker would,
and sends a real request to Azurite through the SDK.
"""

import json
import subprocess
import sys

from tests.fixtures.host import REPO_ROOT

PROGRAM = """
import json, logging, sys
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append([record.name, record.levelname])
logging.getLogger().addHandler(Keep())
logging.getLogger().setLevel(logging.INFO)
import shared.runtime
from azure.storage.blob import BlobServiceClient
service = BlobServiceClient.from_connection_string(sys.argv[1])
list(service.list_containers())
logging.getLogger("azure.core.pipeline.policies.http_logging_policy").warning("still heard")
print(json.dumps(records))
"""


def test_sdk_requests_are_not_logged_at_info_but_its_warnings_are(storage_connection_string):
    env = {
        "PATH": "/usr/bin:/bin",
        "SPEECH_ENDPOINT": "https://westeurope.api.cognitive.microsoft.com",
        "SPEECH_KEY": "k",
        "AzureWebJobsStorage": storage_connection_string,
        "DESTINATION_CONNECTION": storage_connection_string,
        "DESTINATION_CONTAINER": "transcripts",
    }
    run = subprocess.run(
        [sys.executable, "-c", PROGRAM, storage_connection_string],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    records = json.loads(run.stdout.strip().splitlines()[-1])
    sdk = [record for record in records if record[0].startswith("azure")]
    assert sdk == [["azure.core.pipeline.policies.http_logging_policy", "WARNING"]]
