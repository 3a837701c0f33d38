"""Local emulator of the Azure Speech batch-transcription REST API (v3.2, 2024-11-15, 2025-10-15).

from local.speech_emulator import EmulatorConfig, EmulatorServer

with EmulatorServer(EmulatorConfig(storage_connection_string=azurite.connection_string)) as emu:
    emu.endpoint  # http://127.0.0.1:<port>
    emu.admin.seed(100)
"""

from local.speech_emulator.admin_client import AdminClient
from local.speech_emulator.config import EmulatorConfig
from local.speech_emulator.server import EmulatorError, EmulatorServer

__all__ = ["AdminClient", "EmulatorConfig", "EmulatorError", "EmulatorServer"]
