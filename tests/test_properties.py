"""Properties that hold for any input."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventsim import Simulator

from .helpers import function

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b) or a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(json_values, min_size=1, max_size=5))
def test_any_json_event_reaches_the_handler_and_comes_back_unchanged(
    tmp_path_factory: Any, events: list[Any]
) -> None:
    async def run() -> None:
        state = tmp_path_factory.mktemp("state")
        config = {"functions": {"echo": function("echo")}}
        async with Simulator.from_dict(config, virtual_time=True, state_dir=state) as sim:
            for event in events:
                result = await sim.invoke("echo", event)
                assert result.function_error is None
                assert _same(result.payload, event)
            assert [a.event for a in sim.ledger.for_function("echo")] == events

    asyncio.run(run())
