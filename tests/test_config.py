import os
import re
import runpy
import secrets
import subprocess
import sys

import pytest

from config import (
    KNOWN_KEYS_FILE,
    SECRET_KEY_MIN_BYTES,
    ConfigError,
    known_keys,
    normalise_database_url,
    repeated_run,
    secret_key_problem,
)
from directory import ROOT, create_app


@pytest.mark.parametrize(
    "env, missing",
    [
        ({}, "SECRET_KEY, DATABASE_URL, PUBLIC_URL"),
        ({"SECRET_KEY": "s3cret", "PUBLIC_URL": "https://truetouch.example"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://x@localhost/db", "PUBLIC_URL": "https://truetouch.example"}, "SECRET_KEY"),
        ({"SECRET_KEY": "s3cret", "DATABASE_URL": "postgresql://x@localhost/db"}, "PUBLIC_URL"),
    ],
)
def test_production_refuses_to_start_without_its_secrets(monkeypatch, env, missing):
    for name in ("SECRET_KEY", "DATABASE_URL", "PUBLIC_URL", "TRUSTED_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as info:
        create_app("production")
    assert str(info.value).endswith(missing)


# Made afresh each run: any key written here would be a published key, refused in production.
STRONG_KEY = secrets.token_hex(32)


def test_production_starts_with_its_secrets_and_secure_cookies(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.internal/prod")
    monkeypatch.setenv("PUBLIC_URL", "https://truetouch.example")
    monkeypatch.delenv("TRUSTED_HOSTS", raising=False)
    app = create_app("production")
    assert app.config["SECRET_KEY"] == STRONG_KEY
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.internal/prod"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["DEBUG"] is False
    # Only the public address is served unless the operator names more hosts.
    assert app.config["TRUSTED_HOSTS"] == ["truetouch.example"]
    assert app.test_client().get("/about/safety", headers={"Host": "evil.example"}).status_code == 400
    monkeypatch.setenv("TRUSTED_HOSTS", "truetouch.example, .truetouch.example")
    assert create_app("production").config["TRUSTED_HOSTS"] == ["truetouch.example", ".truetouch.example"]


@pytest.mark.parametrize("url", ["http://truetouch.example", "truetouch.example", "https://"])
def test_production_refuses_a_public_url_that_is_not_https(monkeypatch, url):
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.internal/prod")
    monkeypatch.setenv("PUBLIC_URL", url)
    with pytest.raises(ConfigError, match="PUBLIC_URL must be the site's https address"):
        create_app("production")


def test_development_defaults_to_sqlite_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    app = create_app("development")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/directory.sqlite3"


@pytest.mark.parametrize(
    "url, expected",
    [
        ("postgres://a@h/d", "postgresql+psycopg://a@h/d"),
        ("postgresql://a@h/d", "postgresql+psycopg://a@h/d"),
        ("postgresql+psycopg://a@h/d", "postgresql+psycopg://a@h/d"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_use_psycopg3(url, expected):
    assert normalise_database_url(url) == expected


# Issue 11, item 7: no secret in code.


@pytest.mark.parametrize(
    "weak",
    [
        "dev-only-not-secret",
        "s3cret",
        "change-me",
        "x" * 64,
        "short-but-random-7f3a",
        "abababababababababababababababab",
        # Issue 23, item 6: each of these started production before.
        "dev-only-not-secret-dev-only-not-secret",
        "change-me-change-me-change-me-change-me",
        "9f1c2b7e4d3a8c6b5e0f1a2d3c4b5a69788796a5b4c3d2e1f0",  # the tests' old example key
        "my-company-production-secret-key-2024",  # words and a year: long, yet guessable
        "Tr0ub4dor&3-Tr0ub4dor&3-Tr0ub4dor&3-xyz",  # a repeated pattern with a tail
    ],
)
def test_production_refuses_a_weak_secret_key(monkeypatch, weak):
    monkeypatch.setenv("SECRET_KEY", weak)
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.internal/prod")
    monkeypatch.setenv("PUBLIC_URL", "https://truetouch.example")
    with pytest.raises(ConfigError) as info:
        create_app("production")
    assert "SECRET_KEY" in str(info.value) and "secrets.token_hex(32)" in str(info.value)


def test_development_makes_a_random_key_once_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    first = create_app("development", INSTANCE_PATH=str(tmp_path / "a")).config["SECRET_KEY"]
    again = create_app("development", INSTANCE_PATH=str(tmp_path / "a")).config["SECRET_KEY"]
    elsewhere = create_app("development", INSTANCE_PATH=str(tmp_path / "b")).config["SECRET_KEY"]
    assert first == again != elsewhere  # kept, and no two installations share one
    assert secret_key_problem(first) is None
    key_file = tmp_path / "a" / "secret_key"
    assert key_file.read_text().strip() == first and oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_no_secret_key_is_written_in_the_code():
    source = (ROOT / "config.py").read_text()
    assert not re.search(r"SECRET_KEY\s*=\s*os\.environ\.get\(\s*\"SECRET_KEY\"\s*,", source)
    assert not re.search(r"SECRET_KEY\s*=\s*\"", source)


def test_gunicorn_runs_the_production_config_unless_told_otherwise(monkeypatch):
    monkeypatch.setenv("APP_ENV", "placeholder")  # restored after the test
    monkeypatch.delenv("APP_ENV")
    runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert os.environ["APP_ENV"] == "production"
    monkeypatch.setenv("APP_ENV", "development")
    runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert os.environ["APP_ENV"] == "development"


def test_wsgi_under_gunicorn_refuses_to_start_with_a_weak_key(monkeypatch):
    """The whole path: gunicorn's config, then wsgi.py's create_app(), with the key an attacker would guess."""
    env = {k: v for k, v in os.environ.items() if k not in ("APP_ENV", "SECRET_KEY")}
    env.update(SECRET_KEY="dev-only-not-secret", DATABASE_URL="sqlite://", PUBLIC_URL="https://truetouch.example")
    script = "import runpy; runpy.run_path('gunicorn.conf.py'); import wsgi"
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "ConfigError: SECRET_KEY is a well-known placeholder" in done.stderr


def test_proxy_count_must_be_a_small_whole_number(monkeypatch):
    monkeypatch.setenv("PROXY_COUNT", "two")
    with pytest.raises(ConfigError, match="PROXY_COUNT must be a whole number"):
        create_app("testing")


# Issue 23, item 6: refuse keys with little entropy, a repeated pattern, or printed in the repository.


@pytest.mark.parametrize(
    "key, reason",
    [
        ("dev-only-not-secret-dev-only-not-secret", "published"),
        ("correct-horse-battery-staple-correct", "too easy to guess"),
        ("ThisIsMyVeryLongSecretKeyForProduction2024!", "too easy to guess"),
    ],
)
def test_each_weak_key_is_named_for_its_problem(key, reason):
    assert reason in (secret_key_problem(key) or "")


def test_a_random_run_said_twice_is_a_pattern():
    run = secrets.token_urlsafe(9)  # made here, so in no list: the pattern alone refuses it
    assert secret_key_problem(secrets.token_hex(8)) is not None  # too short
    assert "repeats a pattern" in (secret_key_problem(run + "-" + run + "-" + secrets.token_hex(8)) or "")


def test_keys_made_as_the_readme_says_pass_and_half_as_much_randomness_does_not():
    for _ in range(10):  # zxcvbn takes a tenth of a second per key; the margin is measured in config.py's note
        for key in (secrets.token_hex(32), secrets.token_urlsafe(32)):
            assert secret_key_problem(key) is None, key
        short = secrets.token_hex(16)  # 32 characters, yet only 16 random bytes
        assert len(short.encode()) >= SECRET_KEY_MIN_BYTES and "too easy to guess" in (secret_key_problem(short) or "")


# A key-like literal: a value given to SECRET_KEY (Python, shell or YAML), or any quoted run of
# 32 or more key characters mixing letters and digits (a hex or base64 token).
_SECRET_KEY_VALUE = re.compile(
    r"""SECRET_KEY["']?\s*[:=,]\s*\(?\s*["']([^"'\s]+)["']"""  # a quoted value: =, a dict's colon, setenv's comma
    r"""|SECRET_KEY=([^\s"'$.(][^\s"'(),]*)(?=\s|$)"""  # a shell line's bare value (not =$VAR, =... or a call)
)
_TOKEN = re.compile(r"""["'`]([A-Za-z0-9+/=_\-]{32,})["'`]""")


def _key_like_literals(text: str) -> set[str]:
    found = {a or b for a, b in _SECRET_KEY_VALUE.findall(text)}
    found |= {t for t in _TOKEN.findall(text) if re.search(r"[0-9]", t) and re.search(r"[A-Za-z]", t)}
    found |= {t for t in _TOKEN.findall(text) if repeated_run(t)}
    # Not another variable's name, nor a path of the site (a test's URL)
    return {k for k in found if not re.fullmatch(r"[A-Z_]+", k) and not k.startswith("/")}


def test_every_key_in_the_repository_is_a_known_key():
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    vendored = ("tests/vendor/", "tests/standards/", "directory/static/", "directory/receipts/fonts/")
    found: dict[str, str] = {}
    for name in listed.split():
        path = ROOT / name
        if name.startswith(vendored) or name.startswith("migrations/versions/") or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # an image or a font
        for key in _key_like_literals(text):
            found.setdefault(key, name)
    assert "9f1c2b7e4d3a8c6b5e0f1a2d3c4b5a69788796a5b4c3d2e1f0" in found  # the scan sees this very file
    missing = {key: name for key, name in found.items() if key.lower() not in known_keys()}
    assert not missing, f"add these to {KNOWN_KEYS_FILE.name} (production must refuse them): {missing}"


def test_known_keys_are_refused_in_production(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.internal/prod")
    monkeypatch.setenv("PUBLIC_URL", "https://truetouch.example")
    for key in sorted(known_keys()):
        monkeypatch.setenv("SECRET_KEY", key)
        with pytest.raises(ConfigError):
            create_app("production")
