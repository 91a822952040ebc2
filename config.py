"""Configuration read from the environment.

Development runs with no set-up (SQLite in the instance folder); production
refuses to start without the secrets it needs rather than falling back to
something guessable.
"""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from zxcvbn import zxcvbn


class ConfigError(RuntimeError):
    """A required setting is missing or invalid."""


def hosts_from(value: str | None) -> list[str]:
    """TRUSTED_HOSTS is a comma-separated list of host names (a leading dot allows subdomains)."""
    return [h.strip() for h in (value or "").split(",") if h.strip()]


# A production key must be long and random: a key an attacker can guess lets
# them forge any session, an administrator's included.
SECRET_KEY_MIN_BYTES = 32
# zxcvbn's estimate of the guesses needed, as a power of ten (10**38 is about 126 bits).
# zxcvbn rates any 32-character string at most 10**32 and long phrases of words near 10**30,
# while secrets.token_hex(32) and token_urlsafe(32) rated 10**58 and 10**41.8 at the least
# over 400 draws each: only keys of that kind pass.
SECRET_KEY_MIN_GUESSES_LOG10 = 38
# A random key of this size repeats no run of 8 characters (odds below one in a million).
SECRET_KEY_MAX_REPEAT = 7
# Every key printed anywhere public: placeholders, this repository's tests and docs, framework examples.
# tests/test_config.py greps the repository for key-like literals and checks each is listed.
KNOWN_KEYS_FILE = Path(__file__).resolve().parent / "directory" / "known_secret_keys.txt"


def known_keys() -> frozenset[str]:
    """The published keys, one a line (blank lines and # comments skipped), lower-cased."""
    lines = KNOWN_KEYS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def repeated_run(key: str, length: int = SECRET_KEY_MAX_REPEAT + 1) -> str | None:
    """A run of `length` characters that occurs twice in the key (overlapping counts), or None."""
    seen: set[str] = set()
    for start in range(len(key) - length + 1):
        run = key[start : start + length]
        if run in seen:
            return run
        seen.add(run)
    return None


def secret_key_problem(key: str) -> str | None:
    """Why this SECRET_KEY is too weak for production, or None."""
    how = "generate one with: python -c 'import secrets; print(secrets.token_hex(32))'"
    if key.strip().lower() in known_keys():
        return f"SECRET_KEY is a well-known placeholder or a published key (it appears in code or documentation): {how}"
    if len(key.encode()) < SECRET_KEY_MIN_BYTES:
        return f"SECRET_KEY must be at least {SECRET_KEY_MIN_BYTES} bytes of random text: {how}"
    if len(set(key)) < 8:
        return f"SECRET_KEY repeats too few characters to be random: {how}"
    if repeated_run(key):
        return f"SECRET_KEY repeats a pattern, so it is not random: {how}"
    # zxcvbn reads the first 100 characters; a longer key is at least as strong as its start.
    if zxcvbn(key[:100])["guesses_log10"] < SECRET_KEY_MIN_GUESSES_LOG10:
        return f"SECRET_KEY is too easy to guess (words, sequences or dates): {how}"
    return None


def instance_secret_key(instance_path: str) -> str:
    """Development's key: random, made once and kept in the instance folder (never in code)."""
    path = Path(instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as out:
        key = secrets.token_hex(32)
        out.write(key + "\n")
    return key


def proxy_count() -> int:
    """How many reverse proxies stand in front of the app (their X-Forwarded-For is trusted)."""
    raw = os.environ.get("PROXY_COUNT", "0").strip() or "0"
    if not raw.isdigit() or int(raw) > 10:
        raise ConfigError(f"PROXY_COUNT must be a whole number from 0 to 10, not {raw!r}.")
    return int(raw)


class Config:
    # hide_parameters: a database error's message never carries the bound values
    # (an intake's health details, a password hash) into a log.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    WTF_CSRF_TIME_LIMIT = 3600 * 8
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    PER_PAGE = 20
    # "gazetteer" resolves offline from the zipcodes package; any other value
    # names a geopy geocoder class (e.g. "nominatim"), used online and cached.
    GEOCODER = os.environ.get("GEOCODER", "gazetteer")
    GEOCODER_USER_AGENT = os.environ.get("GEOCODER_USER_AGENT", "therapist-directory")
    # Broker and result store of the job queue, the profile counters and the rate limits. Without
    # it, jobs run in this process after the response and counts are written once per request.
    REDIS_URL = os.environ.get("REDIS_URL")
    JOBS_QUEUE = os.environ.get("JOBS_QUEUE", "directory")
    # Without REDIS_URL, a thread of the web process delivers the outbox (mail, jobs).
    # OUTBOX_THREAD=0 turns it off: run `flask jobs deliver --loop` beside the server instead.
    OUTBOX_THREAD = os.environ.get("OUTBOX_THREAD", "1") != "0"
    OUTBOX_AFTER_RESPONSE = False
    # The site's address: every absolute link in mail is built on it, never on a request's Host.
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000")
    # Requests naming any other host are refused (400). Development: this machine's names.
    TRUSTED_HOSTS = hosts_from(os.environ.get("TRUSTED_HOSTS")) or sorted(
        {"localhost", "127.0.0.1", urlsplit(PUBLIC_URL).hostname or "localhost"}
    )
    # A streaming read replica of DATABASE_URL: search, listing, profile and API reads go there.
    DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL")
    # Where uploads are kept: unset for instance/uploads, s3://BUCKET[/PREFIX] for an
    # S3-compatible store (boto3 reads AWS_ENDPOINT_URL and the keys from the environment).
    STORAGE_URL = os.environ.get("STORAGE_URL")
    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "true").lower() != "false"
    MAIL_FROM = os.environ.get("MAIL_FROM", "TrueTouch Directory <no-reply@truetouch.example>")
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL") or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # Each client's budget on the public API (/api/v1): Flask-Limiter notation; unset: fair_api.DEFAULT_LIMIT.
    FAIR_API_RATE_LIMIT = os.environ.get("FAIR_API_RATE_LIMIT")
    SECURE_COOKIES = False
    PROXY_COUNT = 0

    @classmethod
    def init(cls, app):
        """Hook for configs that must check the environment at start-up."""
        app.config["PROXY_COUNT"] = proxy_count()


class DevelopmentConfig(Config):
    DEBUG = False
    DEV_OUTBOX_PAGE = True  # /dev/outbox: admins read the mail the site "sent"
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # None: instance SQLite

    @classmethod
    def init(cls, app):
        super().init(app)
        app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY") or instance_secret_key(app.instance_path)
        if not app.config.get("SQLALCHEMY_DATABASE_URI"):
            os.makedirs(app.instance_path, exist_ok=True)
            path = os.path.join(app.instance_path, "directory.sqlite3")
            app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = secrets.token_hex(32)  # a new one each run
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    RATELIMIT_STORAGE_URI = "memory://"
    API_CHECK_ANSWERS = True  # every API answer is checked against its OpenAPI model (api/contract.py)
    DATABASE_REPLICA_URL = None  # tests that need one pass it (tests/test_replica.py)
    STORAGE_URL = None  # tests that use a bucket pass it (tests/test_storage.py)
    MAIL_SERVER = None  # tests never send real mail
    REDIS_URL = None  # jobs run in-process; the tests that use Redis say so
    # No delivery thread: a request's outbox rows are delivered once its response is
    # closed (the test client closes it), a test's own rows at its commit.
    OUTBOX_THREAD = False
    OUTBOX_AFTER_RESPONSE = True
    PUBLIC_URL = "http://localhost"
    TRUSTED_HOSTS = ["localhost", "127.0.0.1"]


class ProductionConfig(Config):
    SECURE_COOKIES = True
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def init(cls, app):
        super().init(app)
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL", "PUBLIC_URL") if not os.environ.get(name)]
        if missing:
            raise ConfigError("Production needs these environment variables set: " + ", ".join(missing))
        public = urlsplit(os.environ["PUBLIC_URL"])
        if public.scheme != "https" or not public.hostname:
            raise ConfigError(
                f"PUBLIC_URL must be the site's https address (e.g. https://truetouch.example), not {public.geturl()!r}"
            )
        problem = secret_key_problem(os.environ["SECRET_KEY"])
        if problem:
            raise ConfigError(problem)
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
        app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(os.environ["DATABASE_URL"])
        app.config["PUBLIC_URL"] = os.environ["PUBLIC_URL"]
        # Only the public address unless the operator names more (e.g. a health-check host).
        app.config["TRUSTED_HOSTS"] = hosts_from(os.environ.get("TRUSTED_HOSTS")) or [public.hostname]


def normalise_database_url(url: str) -> str:
    """Accept the postgres:// URLs hosting platforms hand out and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
