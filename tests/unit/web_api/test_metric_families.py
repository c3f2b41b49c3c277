"""The Prometheus families built from ledger figures, checked through the text parser."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from dealbridge.web.api.connections import is_connection_failure
from dealbridge.web.api.metrics import LATENCY_BUCKETS, LedgerFigures, metric_families
from dealbridge.web.api.queue import QueueDepth


class Fixed(Collector):
    def __init__(self, figures: LedgerFigures, depth: QueueDepth | None) -> None:
        self.figures, self.depth = figures, depth

    def collect(self):  # type: ignore[no-untyped-def]
        return list(metric_families(self.figures, self.depth))


def _text(figures: LedgerFigures, depth: QueueDepth | None) -> dict[tuple[str, str], float]:
    registry = CollectorRegistry()
    registry.register(Fixed(figures, depth))
    text = generate_latest(registry).decode()
    return {
        (sample.name, ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_families_carry_the_figures() -> None:
    buckets = [0] * len(LATENCY_BUCKETS)
    buckets[LATENCY_BUCKETS.index(2.0) :] = [3] * (
        len(LATENCY_BUCKETS) - LATENCY_BUCKETS.index(2.0)
    )
    figures = LedgerFigures(
        deals={"synced": 7, "failed": 2},
        latency_buckets=buckets,
        latency_count=3,
        latency_sum_ms=4500.0,
        api_calls={("netsuite", "204"): 5, ("salesforce", "none"): 1},
        open_errors={("validation", "open"): 4, ("auth", "retrying"): 1},
    )
    samples = _text(figures, QueueDepth(enqueued=6, pending=2))

    assert samples[("dealbridge_deals_total", "status=synced")] == 7
    assert samples[("dealbridge_deals_total", "status=unchanged")] == 0
    assert samples[("dealbridge_deal_latency_seconds_bucket", "le=1")] == 0
    assert samples[("dealbridge_deal_latency_seconds_bucket", "le=2")] == 3
    assert samples[("dealbridge_deal_latency_seconds_bucket", "le=+Inf")] == 3
    assert samples[("dealbridge_deal_latency_seconds_sum", "")] == 4.5
    assert samples[("dealbridge_api_calls_total", "status=none,system=salesforce")] == 1
    assert samples[("dealbridge_queue_depth", "state=enqueued")] == 6
    assert samples[("dealbridge_queue_depth", "state=pending")] == 2
    assert samples[("dealbridge_queue_readable", "")] == 1
    assert samples[("dealbridge_open_errors", "class=validation,state=open")] == 4
    assert samples[("dealbridge_open_errors", "class=auth,state=retrying")] == 1
    assert samples[("dealbridge_open_errors", "class=bug,state=open")] == 0


def test_an_unreadable_queue_is_reported_not_zeroed() -> None:
    samples = _text(LedgerFigures(latency_buckets=[0] * len(LATENCY_BUCKETS)), None)
    assert samples[("dealbridge_queue_readable", "")] == 0
    assert not [key for key in samples if key[0] == "dealbridge_queue_depth"]


def test_what_counts_as_a_connection_failure() -> None:
    assert [is_connection_failure(s) for s in (None, 500, 503, 401, 403, 429)] == [True] * 6
    assert [is_connection_failure(s) for s in (200, 204, 400, 404, 409)] == [False] * 5
