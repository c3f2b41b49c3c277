"""A process's NetSuite limiter holds only its share of the account's pool."""

from __future__ import annotations

from dealbridge.connectors.netsuite.governance import AdaptiveConcurrencyLimiter


def test_a_share_lowers_the_ceiling_and_the_cap() -> None:
    limiter = AdaptiveConcurrencyLimiter(5)
    limiter.share(3, 2)
    assert (limiter.account_limit, limiter.ceiling, limiter.cap) == (5, 1, 1)


def test_a_larger_share_lifts_a_cap_that_was_at_its_ceiling() -> None:
    limiter = AdaptiveConcurrencyLimiter(45)
    limiter.share(3, 0)
    limiter.share(2, 0)
    assert (limiter.ceiling, limiter.cap) == (23, 23)


def test_a_cap_backed_off_by_429s_keeps_climbing_slowly() -> None:
    limiter = AdaptiveConcurrencyLimiter(45)
    limiter.share(3, 0)
    limiter._on_rate_limited(limiter._epoch)  # a 429 in the current epoch halves the cap
    assert limiter.cap == 7
    limiter.share(1, 0)
    assert (limiter.ceiling, limiter.cap) == (45, 7)


def test_the_governance_limit_is_the_accounts_and_is_shared_too() -> None:
    limiter = AdaptiveConcurrencyLimiter(5)
    limiter.share(2, 1)
    limiter.reset(15)  # governanceLimits read by one client of this process
    assert (limiter.account_limit, limiter.ceiling, limiter.cap) == (15, 7, 7)
