"""Cold start: indexing the app (importing function_app) loads only azure.functions and the settings.

Everything a trigger needs (Speech client, storage SDKs, identity, the pydantic wire models) is imported when
a trigger first runs; bench/cold_start.py measures the time this saves.
"""

import json
import os
import subprocess
import sys

from tests.fixtures.host import REPO_ROOT

SETTINGS = {
    "SPEECH_ENDPOINT": "https://westeurope.api.cognitive.microsoft.com",
    "SPEECH_KEY": "k",
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    "DESTINATION_CONNECTION": "UseDevelopmentStorage=true",
    "DESTINATION_CONTAINER": "transcripts",
}
DEFERRED = (
    "shared.runtime",
    "shared.speech",
    "shared.transcripts.derive",
    "azure.identity",
    "msal",
    "azure.storage.blob",
    "azure.storage.queue",
    "azure.data.tables",
    "requests",
)
PROBE = """
import json, sys
import function_app
names = sorted(f.get_function_name() for f in function_app.app.get_functions())
print(json.dumps({"functions": names, "modules": sorted(sys.modules)}))
"""


def test_indexing_imports_no_trigger_dependencies_and_finds_every_function():
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO_ROOT,
        env={**os.environ, **SETTINGS},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    probe = json.loads(result.stdout)
    loaded = [name for name in DEFERRED if name in probe["modules"]]
    assert loaded == []
    assert probe["functions"] == [
        "conversation_status",
        "harvest",
        "poll",
        "speech_webhook",
        "status",
        "submit_transcription",
        "track_conversation",
        "transcription_status",
    ]
