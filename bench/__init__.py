"""Scripts that measure Speech Harvester on the local stack and print figures (not timed tests)."""
