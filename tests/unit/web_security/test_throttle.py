from datetime import timedelta

from dealbridge.web.security.throttle import FailureCounter
from tests.support.alert_receivers import FakeClock


def test_blocks_after_the_limit_within_the_window() -> None:
    clock = FakeClock()
    counter = FailureCounter(limit=3, window=timedelta(minutes=10))
    for _ in range(2):
        counter.record("10.0.0.1", clock())
    assert not counter.blocked("10.0.0.1", clock())
    counter.record("10.0.0.1", clock())
    assert counter.blocked("10.0.0.1", clock())
    assert not counter.blocked("10.0.0.2", clock())


def test_old_failures_stop_counting() -> None:
    clock = FakeClock()
    counter = FailureCounter(limit=2, window=timedelta(minutes=10))
    counter.record("a", clock())
    clock.advance(minutes=9)
    counter.record("a", clock())
    assert counter.blocked("a", clock())
    clock.advance(minutes=1)
    assert not counter.blocked("a", clock())


def test_memory_is_bounded() -> None:
    clock = FakeClock()
    counter = FailureCounter(limit=1, window=timedelta(minutes=10), max_keys=100)
    for number in range(1000):
        counter.record(f"addr-{number}", clock())
    assert len(counter._failures) == 100
    assert counter.blocked("addr-999", clock())
    assert not counter.blocked("addr-0", clock())
