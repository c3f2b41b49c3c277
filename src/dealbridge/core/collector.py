"""The garbage collector of a long-running service process, tuned once it has started.

Why: CPython runs its youngest collection every 700 container allocations and, every so often, a
full one over every object the process holds. A deal allocates thousands of short-lived
containers (requests, JSON, SQL statements), while what a service holds after startup — modules,
the web app, the flow, the SQLAlchemy and DBOS machinery — lives as long as the process. Measured
with ``bench/overhead.py``, the collector took about a tenth of the service's CPU per deal, most
of it walking those startup objects again and again.

So, once startup is done (``tune_for_service``): what exists is moved out of the collector's
sight (``gc.freeze``: never scanned, still freed by reference counting when dropped), after a
collection so no garbage is frozen with it; and the youngest generation is collected every
``YOUNG_THRESHOLD`` allocations instead of 700. Cycles are still found, only less often: memory
held by uncollected cycles stays within a few thousand objects.

For service processes (``serve``, ``worker``), never for a library user's or a test's process,
whose objects are not there for good.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000
OLDER_THRESHOLD = 20


def tune_for_service() -> None:
    """Freeze what startup left and collect less often (see the module docstring)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, OLDER_THRESHOLD, OLDER_THRESHOLD)
