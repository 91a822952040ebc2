import pytest

from config import ConfigError, normalise_database_url
from directory import create_app


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


def test_production_starts_with_its_secrets_and_secure_cookies(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.internal/prod")
    monkeypatch.setenv("PUBLIC_URL", "https://truetouch.example")
    monkeypatch.delenv("TRUSTED_HOSTS", raising=False)
    app = create_app("production")
    assert app.config["SECRET_KEY"] == "s3cret"
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
