"""Small Functions apps the host tests run: each folder holds a function_app.py and a host.json.

The host imports each function_app.py by path, as the Python worker does; functions report what happened
through `tests.host.apps.outbox.record`.
"""
