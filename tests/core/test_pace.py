"""Background steps rest after themselves while requests are in flight, and only then."""

from __future__ import annotations

import time

from core.pace import InFlight, Pace


def _step(pace: Pace, work_s: float = 0.02) -> float:
    started = time.perf_counter()
    with pace.step():
        time.sleep(work_s)
    return time.perf_counter() - started


def test_a_step_rests_as_long_as_it_earned_while_requests_are_in_flight() -> None:
    in_flight = InFlight()
    pace = Pace(rest=10.0, busy=in_flight.busy)
    assert _step(pace) < 0.15  # nobody waits: no rest
    with in_flight:
        with in_flight:
            assert in_flight.busy()
        assert _step(pace) >= 0.2  # 0.02 s of work, then ten times that
    assert not in_flight.busy()
