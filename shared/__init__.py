"""Speech Harvester: harvests Azure Speech transcription results into the customer's own blob storage."""

__version__ = "0.1.0"
