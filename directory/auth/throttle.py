"""Guesses at one account's password are slowed, and its owner is never locked out.

The address limits on /auth/login (views.py) cap what one connection may try. What
they cannot see is many addresses guessing one account; a lock on the account would
stop those, and its owner with them (issue 23: ten wrong passwords from ten addresses
kept the owner's right one out for an hour). So once an account has had
`SLOW_AFTER` failures in an hour, each address that failed on it must wait before
its next try on it, twice as long after each further failure (up to `LONGEST_WAIT`).
An address that has not failed on the account is never made to wait, and a try that
is not made to wait is always checked: the right password signs in. The owner hears
of the failures by mail, once a day at most.

Counts live in the rate limiter's storage (Redis in production, so every web process
shares them); accounts are named by a digest of the email, never the address itself.
"""

from __future__ import annotations

import hashlib
import math
import time

from ..extensions import limiter

ACCOUNT_WINDOW = 3600  # seconds over which an account's failures are counted
SLOW_AFTER = 5  # failures for an account before the addresses that failed on it must wait
FIRST_WAIT = 2  # seconds after a failure once the account is being slowed, doubled after each further one
LONGEST_WAIT = 15 * 60
WARN_EVERY = 24 * 3600  # the owner hears of failures once per day at most


def _account(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:32]


def _keys(email: str, address: str) -> tuple[str, str, str]:
    account = _account(email)
    return f"signin-failures:{account}", f"signin-failures:{account}:{address}", f"signin-wait:{account}:{address}"


def seconds_to_wait(email: str, address: str) -> int:
    """How long `address` must wait before its next try at this account's password (0: try now)."""
    wait_key = _keys(email, address)[2]
    if not limiter.storage.get(wait_key):
        return 0
    return max(1, math.ceil(limiter.storage.get_expiry(wait_key) - time.time()))


def record_failure(email: str, address: str) -> bool:
    """Count a wrong password; True when the account's owner should now be told (once per WARN_EVERY)."""
    account_key, pair_key, wait_key = _keys(email, address)
    storage = limiter.storage
    failures = storage.incr(account_key, ACCOUNT_WINDOW)
    from_here = storage.incr(pair_key, ACCOUNT_WINDOW)
    if failures < SLOW_AFTER:
        return False
    storage.incr(wait_key, min(FIRST_WAIT * 2 ** (from_here - 1), LONGEST_WAIT))
    return storage.incr(f"signin-warned:{_account(email)}", WARN_EVERY) == 1


def record_success(email: str, address: str) -> None:
    """The owner's address starts afresh (a typo before it no longer makes it wait longer)."""
    _, pair_key, wait_key = _keys(email, address)
    limiter.storage.clear(pair_key)
    limiter.storage.clear(wait_key)
