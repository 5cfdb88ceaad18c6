"""A handler that records what it receives (stdlib only, so it loads fast in any environment).

Use it as a function's handler — ``handler: eventsim.testing.record`` — and read the events
back with ``sim.recorded("name")``. It returns ``None`` (an SQS or stream batch succeeds, an
HTTP API route answers ``null``), or the JSON in ``EVENTSIM_RECORD_RESULT`` if that is set.
"""

from __future__ import annotations

import json
import os
from typing import Any


def record(event: Any, context: Any) -> Any:
    records = event.get("Records") if isinstance(event, dict) else None
    count = len(records) if isinstance(records, list) else 1
    print(f"eventsim.testing.record: {count} record(s)")
    result = os.environ.get("EVENTSIM_RECORD_RESULT")
    return json.loads(result) if result else None
