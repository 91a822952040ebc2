"""Sign-in limits count failures, and behind a reverse proxy each client has its
own bucket (issue 11, item 11)."""

from __future__ import annotations

import logging
import re

import pytest

from directory import trust_proxies
from directory.auth import throttle
from directory.extensions import limiter

from .conftest import PASSWORD, csrf_token


def attempt(app, password: str, email: str, *, address: str = "127.0.0.1", forwarded_for: str | None = None):
    """One sign-in from a fresh browser at `address` (optionally through a proxy)."""
    client = app.test_client()
    environ = {"REMOTE_ADDR": address}
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    token = csrf_token(client, "/auth/login")
    return client.post(
        "/auth/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base=environ,
        headers=headers,
    )


@pytest.fixture
def fresh_limits(app):
    with app.app_context():
        limiter.reset()


def test_the_owner_signing_in_often_is_never_locked_out(app, therapist_user, fresh_limits):
    """Today's code counted every sign-in: the owner's 11th in an hour was refused."""
    for n in range(15):
        response = attempt(app, PASSWORD, therapist_user.email, address=f"10.0.0.{n + 1}")
        assert response.status_code == 302, n


# Issue 23, item 5: anyone could lock anyone out.


def test_failures_from_many_addresses_never_keep_the_owner_out(app, therapist_user, fresh_limits):
    """Before: ten wrong passwords from ten addresses, and the owner's right one from an eleventh got 429."""
    for n in range(10):
        assert attempt(app, "wrong-password-xyz", therapist_user.email, address=f"10.0.1.{n + 1}").status_code == 400
    assert attempt(app, PASSWORD, therapist_user.email, address="10.0.1.99").status_code == 302
    # ... and from an address that had failed on it too, once its wait is over (here: cleared).
    for n in range(30):
        attempt(app, "wrong-password-xyz", therapist_user.email, address=f"10.0.2.{n + 1}")
    assert attempt(app, PASSWORD, therapist_user.email, address="10.0.3.1").status_code == 302


def _wait_over(app, email: str, address: str) -> None:
    """What the clock would do: the wait an address was given ends."""
    with app.app_context():
        limiter.storage.clear(throttle._keys(email, address)[2])


def _budget_renewed(app, address: str) -> None:
    with app.app_context():
        keys = [key for key in limiter.storage.storage if f"/{address}/auth.login/" in key]  # memory storage
        assert keys
        for key in keys:
            limiter.storage.clear(key)


def test_an_address_guessing_one_account_waits_longer_after_each_failure(app, therapist_user, fresh_limits, caplog):
    email = therapist_user.email
    for n in range(throttle.SLOW_AFTER - 1):  # other addresses' failures: the account is now being guessed
        attempt(app, "wrong-password-xyz", email, address=f"10.0.4.{n + 1}")
    waits = []
    for _ in range(4):
        assert attempt(app, "wrong-password-xyz", email, address="10.0.5.5").status_code == 400
        with caplog.at_level(logging.INFO):
            paused = attempt(app, PASSWORD, email, address="10.0.5.5")  # not even checked while it waits
        wait = re.search(r"Try again in (\d+) seconds?", paused.get_data(as_text=True))
        assert paused.status_code == 429 and wait and int(paused.headers["Retry-After"]) >= int(wait[1])
        waits.append(int(wait[1]))
        _wait_over(app, email, "10.0.5.5")
        _budget_renewed(app, "10.0.5.5")  # the address's own per-minute budget is another test's
    assert waits == sorted(waits) and waits[-1] >= 4 * waits[0], waits
    assert email not in caplog.text
    # The owner, elsewhere, was never made to wait.
    assert attempt(app, PASSWORD, email, address="10.0.6.6").status_code == 302


def test_one_address_alone_is_still_capped(app, therapist_user, fresh_limits):
    statuses = [attempt(app, "wrong-password-xyz", therapist_user.email).status_code for _ in range(7)]
    assert statuses[:5] == [400] * 5 and set(statuses[5:]) == {429}


def test_the_owner_is_told_once_and_nobody_learns_which_emails_have_accounts(app, therapist_user, fresh_limits, outbox):
    for n in range(25):
        attempt(app, "wrong-password-xyz", therapist_user.email, address=f"10.0.7.{n + 1}")
    for n in range(25):
        unknown = attempt(app, "wrong-password-xyz", "nobody-here@example.com", address=f"10.0.8.{n + 1}")
    mails = outbox()
    assert [m["To"] for m in mails] == [therapist_user.email]
    body = mails[0].get_body(("plain",)).get_content()
    assert "wrong password" in body and "/auth/forgot" in body and therapist_user.email not in body
    assert unknown.status_code == 400 and "do not match an account" in unknown.get_data(as_text=True)


@pytest.fixture
def behind_one_proxy(app, monkeypatch):
    monkeypatch.setitem(app.config, "PROXY_COUNT", 1)
    monkeypatch.setattr(app, "wsgi_app", app.wsgi_app)  # restored after the test
    trust_proxies(app)


def test_behind_a_proxy_each_client_has_its_own_bucket(app, therapist_user, fresh_limits, behind_one_proxy):
    """Every request arrives from the proxy's address; X-Forwarded-For names the client."""
    for n in range(8):
        response = attempt(
            app, "wrong-password-xyz", f"nobody{n}@example.com", address="10.9.9.9", forwarded_for=f"203.0.113.{n}"
        )
        assert response.status_code == 400, n  # 8 clients, 1 failure each: nobody waits
    for _ in range(5):
        attempt(app, "wrong-password-xyz", "someone@example.com", address="10.9.9.9", forwarded_for="198.51.100.7")
    blocked = attempt(app, "wrong-password-xyz", "else@example.com", address="10.9.9.9", forwarded_for="198.51.100.7")
    assert blocked.status_code == 429  # ... but one client's sixth try in a minute does


def test_without_a_configured_proxy_a_forged_header_changes_nothing(app, therapist_user, fresh_limits):
    statuses = [
        attempt(app, "wrong-password-xyz", f"nobody{n}@example.com", forwarded_for=f"203.0.113.{n}").status_code
        for n in range(6)
    ]
    assert statuses == [400] * 5 + [429]  # all one bucket: the header is anyone's to forge
