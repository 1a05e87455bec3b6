"""Settings, read once from the environment into a frozen object.

Every setting is listed in SETTINGS with its default and meaning; the table in docs/operations.md is
generated from the same list (`invex settings`), so the two cannot drift.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, fields
from functools import cache

from common import plans


class ConfigError(Exception):
    """A setting is malformed; the message names the variable."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    meaning: str


SETTINGS = (
    Setting(
        "INVEX_DATABASE_URL",
        "",
        "PostgreSQL URL. Empty: `invex up` starts a private server under INVEX_DATA_DIR.",
    ),
    Setting(
        "INVEX_REDIS_URL",
        "",
        "Redis URL (Celery broker and rate limits). Empty: `invex up` "
        "starts a private server under INVEX_DATA_DIR.",
    ),
    Setting("INVEX_DATA_DIR", ".invex", "Where the embedded servers keep their data."),
    Setting("INVEX_HOST", "127.0.0.1", "Address the API listens on."),
    Setting("INVEX_PORT", "8000", "Port the API listens on."),
    Setting("INVEX_WEB_CONCURRENCY", "2", "gunicorn worker processes (each runs 8 threads)."),
    Setting("INVEX_EXTRACT_CONCURRENCY", "2", "Extraction worker processes per `worker`."),
    Setting(
        "INVEX_OCR_ENGINE",
        "rapidocr",
        "OCR engine for scans and photos: `rapidocr` or `easyocr` (needs the `easyocr` extra).",
    ),
    Setting(
        "INVEX_OCR_THREADS",
        "0",
        "Threads each extraction process gives OCR; 0: the machine's cores divided by "
        "INVEX_EXTRACT_CONCURRENCY.",
    ),
    Setting("INVEX_MAX_UPLOAD_BYTES", "20971520", "Largest accepted upload (bytes)."),
    Setting(
        "INVEX_MAX_PAGES",
        "50",
        "Most pages a document may have: the upload refuses more (422 `too_many_pages`), "
        "and the extraction worker applies the same limit.",
    ),
    Setting(
        "INVEX_EXTRACT_TIME_LIMIT",
        "300",
        "Seconds one extraction may run before it is "
        "stopped (the soft limit; the hard limit is 30 s later).",
    ),
    Setting(
        "INVEX_EXTRACT_MAX_ATTEMPTS",
        "3",
        "Extraction attempts before an invoice that keeps crashing its worker ends `failed`.",
    ),
    Setting(
        "INVEX_REQUEUE_AFTER",
        "300",
        "Seconds a queued invoice may wait before the sweeper "
        "sends its task again (covers a lost or flushed broker).",
    ),
    Setting("INVEX_SWEEP_INTERVAL", "30", "Seconds between sweeper runs (beat)."),
    Setting(
        "INVEX_MAIL_POLL_INTERVAL",
        "2",
        "Seconds between two polls of a mailbox (worker `mail`; beat looks for due mailboxes "
        "twice per interval, so a mail is read within about 1.5 times this). A failing "
        "mailbox backs off from it, doubling, to 15 minutes.",
    ),
    Setting(
        "INVEX_MAIL_ALLOW_PRIVATE",
        "0",
        "1: mailboxes may name IMAP servers on loopback and private addresses (a mail "
        "server on the same network). Off, so a mailbox cannot probe the service's network.",
    ),
    Setting(
        "INVEX_EXPORT_RETENTION_DAYS",
        "7",
        "Days an export's file can be downloaded; the sweeper then deletes it.",
    ),
    Setting(
        "INVEX_EXPORT_TIME_LIMIT",
        "3600",
        "Seconds one export may run before it is stopped and fails (the soft limit; the "
        "hard limit is 60 s later). A crashed export is retried by the sweeper, at most "
        "3 attempts.",
    ),
    Setting(
        "INVEX_EXPORT_VALIDATION_PROCESSES",
        "1",
        "Helper processes an export worker starts (once, then reuses) to validate `ubl` "
        "documents with the UBL XSD and EN 16931 schematron while it builds the next ones; "
        "each holds its own compiled schematron (memory and speed in docs/performance.md). "
        "0: the worker validates alone.",
    ),
    Setting(
        "INVEX_WEBHOOK_ALLOW_PRIVATE",
        "0",
        "1: webhook URLs may resolve to loopback or private addresses (development only).",
    ),
    Setting("INVEX_WEBHOOK_ALLOW_HTTP", "0", "1: webhook URLs may use plain http."),
    Setting(
        "INVEX_SECRET_KEY",
        "",
        "Root key (32+ characters; comma-separated to rotate, newest first) that encrypts "
        "stored secrets and signs review-app sessions. Empty: `invex up` keeps a generated "
        "one in INVEX_DATA_DIR/secret.key; other processes refuse to store secrets.",
    ),
    Setting("INVEX_LOG_LEVEL", "INFO", "Log level of every process."),
    Setting(
        "INVEX_LOG_FORMAT",
        "text",
        "`text`, or `json`: every log line a JSON object carrying `request_id`, `org_id` "
        "and `invoice_id` where known.",
    ),
    Setting(
        "INVEX_METRICS_ALLOW",
        "127.0.0.0/8,::1",
        "Comma-separated addresses or CIDRs that may read the API's Prometheus `/metrics`; "
        "any other client, and any request relayed with `X-Forwarded-For`, gets 404.",
    ),
    Setting(
        "INVEX_METRICS_HOST",
        "127.0.0.1",
        "Address the Celery workers serve their Prometheus metrics on.",
    ),
    Setting(
        "INVEX_METRICS_PORT",
        "0",
        "Port a Celery worker serves Prometheus metrics on (`/metrics`); 0: none. `invex up` "
        "gives its extraction, webhook, exports, mail, bank and publish workers this port "
        "and the next five.",
    ),
    Setting(
        "INVEX_RESTART_LIMIT",
        "5",
        "`invex up` restarts a process that died (after 1 s, doubling to 30 s); this many "
        "restarts of one process within INVEX_RESTART_WINDOW seconds, and the next death "
        "stops everything (exit status 1).",
    ),
    Setting("INVEX_RESTART_WINDOW", "60", "Seconds over which INVEX_RESTART_LIMIT counts."),
    Setting(
        "INVEX_RATE_LIMITS",
        "1",
        "0: no rate limits (the `X-RateLimit-*` headers go too). Credits still apply.",
    ),
    Setting(
        "INVEX_AUTH_FAILURES_PER_MINUTE",
        "20",
        "Failed authentications (401) one client address may have in a minute; beyond it "
        "every request from that address answers 429 `rate_limited` before its key is "
        "checked, until its oldest failure is a minute old.",
    ),
    Setting(
        "INVEX_TRUSTED_PROXIES",
        "",
        "Comma-separated addresses or CIDRs of reverse proxies whose `X-Forwarded-For` "
        "names the client. Empty: the peer address is the client.",
    ),
    Setting(
        "INVEX_KEY_CACHE_SECONDS",
        "10",
        "How long an API process may reuse a key it has read (with its organisation and "
        "member). Any change to them empties every process's cache at once (LISTEN/NOTIFY); "
        "this bounds a lost notification. 0: read the key on every request.",
    ),
    Setting(
        "INVEX_PUBLIC_URL",
        "http://127.0.0.1:8000",
        "The API's address as browsers reach it: OAuth redirect URIs are "
        "`<this>/v1/integrations/<provider>/callback` (register them with each provider).",
    ),
    Setting("INVEX_XERO_CLIENT_ID", "", "Xero app's client ID; empty: Xero is not configured."),
    Setting("INVEX_XERO_CLIENT_SECRET", "", "Xero app's client secret."),
    Setting(
        "INVEX_XERO_LOGIN_URL",
        "https://login.xero.com",
        "Xero's authorization server (`/identity/connect/authorize`).",
    ),
    Setting(
        "INVEX_XERO_IDENTITY_URL",
        "https://identity.xero.com",
        "Xero's token and revocation endpoints (`/connect/token`, `/connect/revocation`).",
    ),
    Setting(
        "INVEX_XERO_API_URL",
        "https://api.xero.com",
        "Xero's API (`/connections`, `/api.xro/2.0/...`).",
    ),
    Setting(
        "INVEX_QUICKBOOKS_CLIENT_ID",
        "",
        "QuickBooks Online app's client ID; empty: QuickBooks is not configured.",
    ),
    Setting("INVEX_QUICKBOOKS_CLIENT_SECRET", "", "QuickBooks Online app's client secret."),
    Setting(
        "INVEX_QUICKBOOKS_AUTHORIZE_URL",
        "https://appcenter.intuit.com/connect/oauth2",
        "Intuit's authorization endpoint.",
    ),
    Setting(
        "INVEX_QUICKBOOKS_TOKEN_URL",
        "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
        "Intuit's token endpoint.",
    ),
    Setting(
        "INVEX_QUICKBOOKS_REVOKE_URL",
        "https://developer.api.intuit.com/v2/oauth2/tokens/revoke",
        "Intuit's revocation endpoint.",
    ),
    Setting(
        "INVEX_QUICKBOOKS_API_URL",
        "https://quickbooks.api.intuit.com",
        "QuickBooks Online API (`/v3/company/<realm>/...`); "
        "`https://sandbox-quickbooks.api.intuit.com` for a sandbox company.",
    ),
    Setting(
        "INVEX_SESSION_IDLE_MINUTES",
        "30",
        "The web app signs a member out after this long without a request.",
    ),
    Setting(
        "INVEX_SESSION_MAX_HOURS",
        "12",
        "The web app signs a member out this long after signing in, however active.",
    ),
    Setting(
        "INVEX_PASSWORD_HASHING",
        "standard",
        "argon2id parameters for members' passwords: `standard` (RFC 9106's second "
        "recommended set) or `test-only-cheap` (the cheapest; for test suites, never a "
        "deployment: a stolen hash would be cheap to guess).",
    ),
    Setting(
        "INVEX_PLAN_LIMITS",
        "",
        "Overrides of the plans' numbers, e.g. `free.monthly_pages=500,pro.uploads_per_hour="
        "20000` (numbers: monthly_pages, requests_per_minute, ip_requests_per_minute, "
        "uploads_per_hour).",
    ),
)


def _int(env: dict[str, str], name: str, minimum: int = 0) -> int:
    raw = env[name]
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _choice(env: dict[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = env[name].strip().lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {env[name]!r}")
    return value


def _flag(env: dict[str, str], name: str) -> bool:
    raw = env[name].strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("", "0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 0 or 1, got {raw!r}")


def _networks(
    env: dict[str, str], name: str
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for item in filter(None, (part.strip() for part in env[name].split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"{name}: {item!r} is not an address or CIDR") from None
    return tuple(networks)


def _url(env: dict[str, str], name: str) -> str:
    value = env[name].strip().rstrip("/")
    if not value.startswith(("https://", "http://")):
        raise ConfigError(f"{name} must be an http(s) URL, got {env[name]!r}")
    return value


def _plan_limits(env: dict[str, str], name: str) -> plans.Overrides:
    try:
        return plans.parse_overrides(env[name])
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str
    data_dir: str
    host: str
    port: int
    web_concurrency: int
    extract_concurrency: int
    ocr_engine: str
    ocr_threads: int
    max_upload_bytes: int
    max_pages: int
    extract_time_limit: int
    extract_max_attempts: int
    requeue_after: int
    sweep_interval: int
    mail_poll_interval: int
    mail_allow_private: bool
    export_retention_days: int
    export_time_limit: int
    export_validation_processes: int
    webhook_allow_private: bool
    webhook_allow_http: bool
    secret_key: str = field(repr=False)
    log_level: str
    log_format: str
    metrics_allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    metrics_host: str
    metrics_port: int
    restart_limit: int
    restart_window: int
    rate_limits: bool
    auth_failures_per_minute: int
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    plan_limits: plans.Overrides
    key_cache_seconds: int
    public_url: str
    xero_client_id: str
    xero_client_secret: str = field(repr=False)
    xero_login_url: str
    xero_identity_url: str
    xero_api_url: str
    quickbooks_client_id: str
    quickbooks_client_secret: str = field(repr=False)
    quickbooks_authorize_url: str
    quickbooks_token_url: str
    quickbooks_revoke_url: str
    quickbooks_api_url: str
    session_idle_minutes: int
    session_max_hours: int
    password_hashing: str

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        source = os.environ if environ is None else environ
        env = {s.name: source.get(s.name, s.default) for s in SETTINGS}
        for name in ("INVEX_DATABASE_URL", "INVEX_REDIS_URL"):
            value = env[name]
            if value and "://" not in value:
                raise ConfigError(f"{name} must be a URL, got {value!r}")
        return cls(
            database_url=env["INVEX_DATABASE_URL"],
            redis_url=env["INVEX_REDIS_URL"],
            data_dir=env["INVEX_DATA_DIR"],
            host=env["INVEX_HOST"],
            port=_int(env, "INVEX_PORT", 1),
            web_concurrency=_int(env, "INVEX_WEB_CONCURRENCY", 1),
            extract_concurrency=_int(env, "INVEX_EXTRACT_CONCURRENCY", 1),
            ocr_engine=_choice(env, "INVEX_OCR_ENGINE", ("rapidocr", "easyocr")),
            ocr_threads=_int(env, "INVEX_OCR_THREADS", 0),
            max_upload_bytes=_int(env, "INVEX_MAX_UPLOAD_BYTES", 1),
            max_pages=_int(env, "INVEX_MAX_PAGES", 1),
            extract_time_limit=_int(env, "INVEX_EXTRACT_TIME_LIMIT", 5),
            extract_max_attempts=_int(env, "INVEX_EXTRACT_MAX_ATTEMPTS", 1),
            requeue_after=_int(env, "INVEX_REQUEUE_AFTER", 1),
            sweep_interval=_int(env, "INVEX_SWEEP_INTERVAL", 1),
            mail_poll_interval=_int(env, "INVEX_MAIL_POLL_INTERVAL", 1),
            mail_allow_private=_flag(env, "INVEX_MAIL_ALLOW_PRIVATE"),
            export_retention_days=_int(env, "INVEX_EXPORT_RETENTION_DAYS", 1),
            export_time_limit=_int(env, "INVEX_EXPORT_TIME_LIMIT", 10),
            export_validation_processes=_int(env, "INVEX_EXPORT_VALIDATION_PROCESSES", 0),
            webhook_allow_private=_flag(env, "INVEX_WEBHOOK_ALLOW_PRIVATE"),
            webhook_allow_http=_flag(env, "INVEX_WEBHOOK_ALLOW_HTTP"),
            secret_key=env["INVEX_SECRET_KEY"],
            log_level=env["INVEX_LOG_LEVEL"].upper(),
            log_format=_choice(env, "INVEX_LOG_FORMAT", ("text", "json")),
            metrics_allow=_networks(env, "INVEX_METRICS_ALLOW"),
            metrics_host=env["INVEX_METRICS_HOST"],
            metrics_port=_int(env, "INVEX_METRICS_PORT", 0),
            restart_limit=_int(env, "INVEX_RESTART_LIMIT", 1),
            restart_window=_int(env, "INVEX_RESTART_WINDOW", 1),
            rate_limits=_flag(env, "INVEX_RATE_LIMITS"),
            auth_failures_per_minute=_int(env, "INVEX_AUTH_FAILURES_PER_MINUTE", 1),
            trusted_proxies=_networks(env, "INVEX_TRUSTED_PROXIES"),
            plan_limits=_plan_limits(env, "INVEX_PLAN_LIMITS"),
            key_cache_seconds=_int(env, "INVEX_KEY_CACHE_SECONDS", 0),
            public_url=_url(env, "INVEX_PUBLIC_URL"),
            xero_client_id=env["INVEX_XERO_CLIENT_ID"].strip(),
            xero_client_secret=env["INVEX_XERO_CLIENT_SECRET"].strip(),
            xero_login_url=_url(env, "INVEX_XERO_LOGIN_URL"),
            xero_identity_url=_url(env, "INVEX_XERO_IDENTITY_URL"),
            xero_api_url=_url(env, "INVEX_XERO_API_URL"),
            quickbooks_client_id=env["INVEX_QUICKBOOKS_CLIENT_ID"].strip(),
            quickbooks_client_secret=env["INVEX_QUICKBOOKS_CLIENT_SECRET"].strip(),
            quickbooks_authorize_url=_url(env, "INVEX_QUICKBOOKS_AUTHORIZE_URL"),
            quickbooks_token_url=_url(env, "INVEX_QUICKBOOKS_TOKEN_URL"),
            quickbooks_revoke_url=_url(env, "INVEX_QUICKBOOKS_REVOKE_URL"),
            quickbooks_api_url=_url(env, "INVEX_QUICKBOOKS_API_URL"),
            session_idle_minutes=_int(env, "INVEX_SESSION_IDLE_MINUTES", 1),
            session_max_hours=_int(env, "INVEX_SESSION_MAX_HOURS", 1),
            password_hashing=_choice(
                env, "INVEX_PASSWORD_HASHING", ("standard", "test-only-cheap")
            ),
        )

    def require_servers(self) -> None:
        """Processes other than `invex up` need explicit server URLs."""
        for name, value in (
            ("INVEX_DATABASE_URL", self.database_url),
            ("INVEX_REDIS_URL", self.redis_url),
        ):
            if not value:
                raise ConfigError(f"{name} is not set (run `invex up` for the embedded default)")


@cache
def get_settings() -> Settings:
    return Settings.from_env()


def settings_markdown() -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    rows += [f"| `{s.name}` | `{s.default}` | {s.meaning} |" for s in SETTINGS]
    return "\n".join(rows)


assert len(fields(Settings)) == len(SETTINGS), "every setting needs a field"
