"""Settings for every service, read from environment variables.

Local defaults are safe for a laptop; production refuses to start without its secrets
and says which variable is missing instead of failing later with a traceback.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import re
import secrets
from collections.abc import Mapping

from . import roster

log = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/salesync"
MIN_JWT_SECRET_LENGTH = 32
# Per BFF worker (4 threads each, locally and in k8s): slow reports and consulting together hold at most 3,
# so one thread is always left for the POS. store, item, order and sale are limited by the threads only.
DEFAULT_BULKHEAD_SLOTS = {"dashboard": 2, "consulting": 1}
# An origin as a browser sends it: scheme, host and an optional port, nothing after.
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?", re.ASCII)


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message names the variable."""


@dataclasses.dataclass(frozen=True)
class Settings:
    service: str
    environment: str = "development"
    database_url: str | None = DEFAULT_DATABASE_URL
    db_schema: str | None = None
    jwt_secret: str = ""
    service_secret: str = ""  # signs the short-lived tokens services present to each other
    jwt_ttl_seconds: int = 24 * 3600
    bcrypt_rounds: int = 12
    service_urls: Mapping[str, str] = dataclasses.field(default_factory=dict)
    http_connect_timeout: float = 1.0
    http_read_timeout: float = 5.0
    http_get_retries: int = 2
    log_level: str = "INFO"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    consulting_max_unfinished: int = 3
    consulting_per_hour: int = 20
    # The BFF decides the client address: the socket peer, or the N-th X-Forwarded-For entry from the right.
    trusted_proxies: int = 0
    # The store service's throttles on guessing passwords (per window, counted in the database).
    login_max_failures: int = 5               # per (username, client address)
    login_max_failures_per_address: int = 20  # per client address, over any usernames
    pwcheck_max_failures: int = 5             # per (store, client address)
    auth_failure_window_seconds: int = 15 * 60
    # A password change needs a right POST /stores/pwcheck by the same token within this many seconds.
    password_change_window_seconds: int = 600
    signup_max_per_address: int = 10          # successful sign-ups per client address per window
    signup_window_seconds: int = 3600
    # How long the BFF keeps a store's password-change record: tokens a change ended are refused within it.
    session_check_seconds: int = 5
    auth_lock_wait_ms: int = 2000             # a login waiting longer for its address's turn answers 503
    max_json_depth: int = 32                  # a JSON body nested deeper answers 400
    max_body_bytes: int = 64 * 1024           # a larger body answers 413
    cors_origins: tuple[str, ...] = ("*",)    # the browser origins the BFF answers; "*": any
    # A store's menu (enabled rows; deleted ones do not count): the next create answers 409.
    max_categories_per_store: int = 200
    max_items_per_store: int = 2000
    max_report_days: int = 366                # a longer start..end answers 400 naming "end"
    # GET /sales/ answers a page of sales, newest first: this many without `limit`, at most the max with it.
    sales_page_default: int = 100
    sales_page_max: int = 500
    # The purge (salesync_common/purge.py): how long rows are kept, and how many go per transaction.
    purge_idempotency_keys_after_hours: int = 24
    purge_outbox_after_days: int = 7          # delivered outbox rows
    purge_dead_letters_after_days: int = 30
    purge_consulting_jobs_after_days: int = 90  # finished jobs
    purge_batch_size: int = 1000
    # Tokens verified once are not verified again until their exp (salesync_common/verified_tokens.py); 0: off.
    verified_tokens_kept: int = 4096
    # The dashboard's consumer-lag gauge asks Kafka at scrape time; after Kafka fails to answer, scrapes skip the
    # lag this long rather than each wait for Kafka's timeout again.
    consumer_lag_retry_seconds: int = 60
    # How long a request through the BFF may take, calls to every service included (salesync_common.deadlines).
    request_deadline_ms: int = 4 * 1000
    report_deadline_ms: int = 8 * 1000        # an owner's report: the charts, the settlement, revenue
    # The BFF's bulkheads: at most this many requests per gunicorn worker wait on one service at once;
    # one more answers 503 upstream_busy at once. A service not named here has no limit but the threads.
    bulkhead_slots: Mapping[str, int] = dataclasses.field(default_factory=lambda: dict(DEFAULT_BULKHEAD_SLOTS))
    bulkhead_wait_ms: int = 300               # how long a request waits for a free slot before that 503
    # The database pool of each process: sized to its request threads, a little overflow for its
    # background thread; a request that waits longer than the pool timeout answers 503.
    db_pool_size: int = 4
    db_max_overflow: int = 1
    db_pool_timeout_ms: int = 2000
    # Set at the start of every transaction (SET LOCAL), so they hold through PgBouncer's transaction pooling.
    db_statement_timeout_ms: int = 5000
    db_lock_timeout_ms: int = 2000
    db_idle_in_transaction_timeout_ms: int = 10000

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_env(cls, service: str, env: Mapping[str, str] | None = None, **overrides) -> Settings:
        env = os.environ if env is None else env
        environment = env.get("SALESYNC_ENV", "development").strip().lower()
        if environment not in ("development", "production", "test"):
            raise ConfigError(f"SALESYNC_ENV must be development, production or test, not {environment!r}")
        production = environment == "production"

        prefix = service.upper()
        entry = roster.BY_NAME.get(service)
        db_schema = entry.schema if entry else None
        database_url = env.get(f"{prefix}_DATABASE_URL") or env.get("DATABASE_URL")
        if not database_url:
            if production and db_schema:
                raise ConfigError(f"{prefix}_DATABASE_URL or DATABASE_URL must be set in production")
            database_url = DEFAULT_DATABASE_URL

        jwt_secret = env.get("SALESYNC_JWT_SECRET", "")
        if not jwt_secret:
            if production:
                raise ConfigError("SALESYNC_JWT_SECRET must be set in production")
            # A throwaway secret keeps a lone dev process working; `make run` sets one shared secret.
            jwt_secret = secrets.token_urlsafe(48)
            log.warning("SALESYNC_JWT_SECRET is not set; using a random secret for this process only")
        if len(jwt_secret) < MIN_JWT_SECRET_LENGTH:
            raise ConfigError(f"SALESYNC_JWT_SECRET must be at least {MIN_JWT_SECRET_LENGTH} characters")
        service_secret = _service_secret(env, production=production, jwt_secret=jwt_secret)

        service_urls = {
            other.name: env.get(f"{other.name.upper()}_SERVICE_URL", f"http://127.0.0.1:{other.local_port}")
            for other in roster.SERVICES
        }
        values = dict(
            service=service,
            environment=environment,
            database_url=normalise_database_url(database_url),
            db_schema=db_schema,
            jwt_secret=jwt_secret,
            service_secret=service_secret,
            jwt_ttl_seconds=int_setting(env, "SALESYNC_JWT_TTL_SECONDS", 24 * 3600, minimum=60),
            bcrypt_rounds=int_setting(env, "SALESYNC_BCRYPT_ROUNDS", 12, minimum=4),
            service_urls=service_urls,
            http_connect_timeout=_float(env, "SALESYNC_HTTP_CONNECT_TIMEOUT", 1.0),
            http_read_timeout=_float(env, "SALESYNC_HTTP_READ_TIMEOUT", 5.0),
            http_get_retries=int_setting(env, "SALESYNC_HTTP_GET_RETRIES", 2, minimum=0),
            log_level=env.get("SALESYNC_LOG_LEVEL", "INFO").upper(),
            kafka_bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
            consulting_max_unfinished=int_setting(env, "SALESYNC_CONSULTING_MAX_UNFINISHED", 3, minimum=1),
            consulting_per_hour=int_setting(env, "SALESYNC_CONSULTING_PER_HOUR", 20, minimum=1),
            trusted_proxies=int_setting(env, "SALESYNC_TRUSTED_PROXIES", 0, minimum=0),
            login_max_failures=int_setting(env, "SALESYNC_LOGIN_MAX_FAILURES", 5, minimum=1),
            login_max_failures_per_address=int_setting(env, "SALESYNC_LOGIN_MAX_FAILURES_PER_ADDRESS", 20, minimum=1),
            pwcheck_max_failures=int_setting(env, "SALESYNC_PWCHECK_MAX_FAILURES", 5, minimum=1),
            auth_failure_window_seconds=int_setting(env, "SALESYNC_AUTH_FAILURE_WINDOW_SECONDS", 15 * 60, minimum=1),
            password_change_window_seconds=int_setting(env, "SALESYNC_PASSWORD_CHANGE_WINDOW_SECONDS", 600, minimum=1),
            signup_max_per_address=int_setting(env, "SALESYNC_SIGNUP_MAX_PER_ADDRESS", 10, minimum=1),
            signup_window_seconds=int_setting(env, "SALESYNC_SIGNUP_WINDOW_SECONDS", 3600, minimum=1),
            session_check_seconds=int_setting(env, "SALESYNC_SESSION_CHECK_SECONDS", 5, minimum=0),
            auth_lock_wait_ms=int_setting(env, "SALESYNC_AUTH_LOCK_WAIT_MS", 2000, minimum=1),
            max_json_depth=int_setting(env, "SALESYNC_MAX_JSON_DEPTH", 32, minimum=2),
            max_body_bytes=int_setting(env, "SALESYNC_MAX_BODY_BYTES", 64 * 1024, minimum=1024),
            cors_origins=cors_origins(env.get("SALESYNC_CORS_ORIGINS", "")),
            max_categories_per_store=int_setting(env, "SALESYNC_MAX_CATEGORIES_PER_STORE", 200, minimum=1),
            max_items_per_store=int_setting(env, "SALESYNC_MAX_ITEMS_PER_STORE", 2000, minimum=1),
            max_report_days=int_setting(env, "SALESYNC_MAX_REPORT_DAYS", 366, minimum=1),
            sales_page_default=int_setting(env, "SALESYNC_SALES_PAGE_DEFAULT", 100, minimum=1),
            sales_page_max=int_setting(env, "SALESYNC_SALES_PAGE_MAX", 500, minimum=1),
            purge_idempotency_keys_after_hours=int_setting(
                env, "SALESYNC_PURGE_IDEMPOTENCY_KEYS_AFTER_HOURS", 24, minimum=1),
            purge_outbox_after_days=int_setting(env, "SALESYNC_PURGE_OUTBOX_AFTER_DAYS", 7, minimum=1),
            purge_dead_letters_after_days=int_setting(env, "SALESYNC_PURGE_DEAD_LETTERS_AFTER_DAYS", 30, minimum=1),
            purge_consulting_jobs_after_days=int_setting(
                env, "SALESYNC_PURGE_CONSULTING_JOBS_AFTER_DAYS", 90, minimum=1),
            purge_batch_size=int_setting(env, "SALESYNC_PURGE_BATCH_SIZE", 1000, minimum=1),
            verified_tokens_kept=int_setting(env, "SALESYNC_VERIFIED_TOKENS_KEPT", 4096, minimum=0),
            consumer_lag_retry_seconds=int_setting(env, "SALESYNC_CONSUMER_LAG_RETRY_SECONDS", 60, minimum=0),
            request_deadline_ms=int_setting(env, "SALESYNC_REQUEST_DEADLINE_MS", 4 * 1000, minimum=100),
            report_deadline_ms=int_setting(env, "SALESYNC_REPORT_DEADLINE_MS", 8 * 1000, minimum=100),
            bulkhead_slots=bulkhead_slots(env),
            bulkhead_wait_ms=int_setting(env, "SALESYNC_BULKHEAD_WAIT_MS", 300, minimum=0),
            # One connection per request thread: gunicorn's --threads, which the images set from GUNICORN_THREADS.
            db_pool_size=int_setting(env, "SALESYNC_DB_POOL_SIZE",
                                     int_setting(env, "GUNICORN_THREADS", 4, minimum=1), minimum=1),
            db_max_overflow=int_setting(env, "SALESYNC_DB_MAX_OVERFLOW", 1, minimum=0),
            db_pool_timeout_ms=int_setting(env, "SALESYNC_DB_POOL_TIMEOUT_MS", 2000, minimum=1),
            db_statement_timeout_ms=int_setting(env, "SALESYNC_DB_STATEMENT_TIMEOUT_MS", 5000, minimum=1),
            db_lock_timeout_ms=int_setting(env, "SALESYNC_DB_LOCK_TIMEOUT_MS", 2000, minimum=1),
            db_idle_in_transaction_timeout_ms=int_setting(env, "SALESYNC_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", 10000,
                                                          minimum=1),
        )
        values.update(overrides)
        if values["sales_page_default"] > values["sales_page_max"]:
            raise ConfigError("SALESYNC_SALES_PAGE_DEFAULT must not exceed SALESYNC_SALES_PAGE_MAX")
        if values["database_url"]:
            values["database_url"] = normalise_database_url(values["database_url"])
        return cls(**values)


def _service_secret(env: Mapping[str, str], *, production: bool, jwt_secret: str) -> str:
    """SALESYNC_SERVICE_SECRET: required in production, never the JWT secret (a store token must not sign)."""
    secret = env.get("SALESYNC_SERVICE_SECRET", "")
    if not secret:
        if production:
            raise ConfigError("SALESYNC_SERVICE_SECRET must be set in production")
        # As with the JWT secret: a lone dev process works alone; `make run` shares one secret.
        secret = secrets.token_urlsafe(48)
        log.warning("SALESYNC_SERVICE_SECRET is not set; using a random secret for this process only")
    if len(secret) < MIN_JWT_SECRET_LENGTH:
        raise ConfigError(f"SALESYNC_SERVICE_SECRET must be at least {MIN_JWT_SECRET_LENGTH} characters")
    if secret == jwt_secret:
        raise ConfigError("SALESYNC_SERVICE_SECRET must differ from SALESYNC_JWT_SECRET")
    return secret


def bulkhead_slots(env: Mapping[str, str]) -> dict[str, int]:
    """SALESYNC_BULKHEAD_SLOTS_<SERVICE>: the BFF's concurrent calls per worker to that service (0: no limit)."""
    slots = {}
    for entry in roster.SERVICES:
        name = f"SALESYNC_BULKHEAD_SLOTS_{entry.name.upper()}"
        limit = int_setting(env, name, DEFAULT_BULKHEAD_SLOTS.get(entry.name, 0), minimum=0)
        if limit:
            slots[entry.name] = limit
    return slots


def normalise_database_url(url: str) -> str:
    """Accept the libpq form (postgres://, postgresql://) and pin the psycopg2 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def cors_origins(raw: str) -> tuple[str, ...]:
    """SALESYNC_CORS_ORIGINS: comma-separated origins (https://pos.example.com), or "*" (also when unset)."""
    origins = tuple(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())
    if not origins or origins == ("*",):
        return ("*",)
    for origin in origins:
        if not _ORIGIN.fullmatch(origin):
            raise ConfigError(f"SALESYNC_CORS_ORIGINS: {origin!r} is not an origin such as https://pos.example.com "
                              "(or give * alone)")
    return origins


def int_setting(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    """A whole-number setting: its default when unset or blank, a ConfigError naming it when it is not
    a whole number of at least `minimum`."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive")
    return value
