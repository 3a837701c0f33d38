"""Running Speech Harvester on one machine: Azurite, the Speech emulator, the local Functions host, the demo.

Nothing here is deployed (see .funcignore)."""
