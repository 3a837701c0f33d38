"""Shared pytest set-up. Fixtures live in tests/fixtures/, one module per part of the local platform."""

pytest_plugins = [
    "tests.fixtures.azurite",
    "tests.fixtures.waiting",
    "tests.fixtures.host",
    "tests.fixtures.emulator",
    "tests.fixtures.stack",
    "tests.fixtures.eventgrid",
    "tests.fixtures.otel",
]
