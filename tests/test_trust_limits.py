"""Sign-in limits count failures, and behind a reverse proxy each client has its
own bucket (issue 11, item 11)."""

from __future__ import annotations

import logging

import pytest

from directory import trust_proxies
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


def test_failed_sign_ins_for_one_email_still_lock_it_from_anywhere(app, therapist_user, fresh_limits, caplog):
    for n in range(10):
        assert attempt(app, "wrong-password-xyz", therapist_user.email, address=f"10.0.1.{n + 1}").status_code == 400
    with caplog.at_level(logging.INFO):
        assert attempt(app, "wrong-password-xyz", therapist_user.email, address="10.0.1.99").status_code == 429
    assert "ratelimit" in caplog.text and therapist_user.email not in caplog.text  # the key is a digest


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
