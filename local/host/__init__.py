"""A local Azure Functions host for this project's function_app.py (Core Tools cannot be installed here).

`python -m local.host` runs the app from the command line; `Host` runs it in-process. The README section
"Running the function app locally" lists the host semantics reproduced and the ones that are not.
"""

from local.host.runtime import Host, HostStartupError

__all__ = ["Host", "HostStartupError"]
