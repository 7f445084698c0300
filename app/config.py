"""Settings from the environment, with the embedded defaults (SQLite, jobs in process)."""
from __future__ import annotations

import os
from datetime import timedelta


def database_url(raw: str | None, instance_path: str) -> str:
    """Normalise DATABASE_URL for SQLAlchemy; default to a SQLite file in the instance folder."""
    if not raw:
        return "sqlite:///" + os.path.join(instance_path, "loopdesk.db")
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Read once per app from the environment; tests pass overrides to create_app()."""

    def __init__(self) -> None:
        self.SECRET_KEY = os.environ.get("SECRET_KEY")
        self.DATABASE_URL = os.environ.get("DATABASE_URL")
        self.REDIS_URL = os.environ.get("REDIS_URL") or None
        self.LOOPDESK_QUEUE = os.environ.get("LOOPDESK_QUEUE", "loopdesk")
        self.PORT = int(os.environ.get("PORT", "5000"))
        self.LOOPDESK_BASE_URL = os.environ.get(
            "LOOPDESK_BASE_URL", f"http://localhost:{self.PORT}"
        ).rstrip("/")
        #: A TrueType CJK font embedded (subset) in posters: Debian's fonts-wqy-microhei by default.
        self.LOOPDESK_POSTER_FONT = os.environ.get(
            "LOOPDESK_POSTER_FONT", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
        )
        self.LOOPDESK_DEFAULT_LOCALE = os.environ.get("LOOPDESK_DEFAULT_LOCALE", "zh_Hans")
        #: Long tasks that build a file (an export of a million responses takes minutes), and where files go.
        self.LOOPDESK_FILE_JOB_TIMEOUT = int(os.environ.get("LOOPDESK_FILE_JOB_TIMEOUT", "3600"))
        self.LOOPDESK_JOB_FILES = os.environ.get("LOOPDESK_JOB_FILES") or None
        #: Where finished files wait for their download (app/services/file_store.py): "folder" (LOOPDESK_JOB_FILES,
        #: one server or a shared mount), "database" (the app's PostgreSQL: several servers, nothing else to run)
        #: or "s3" (an S3-compatible bucket; credentials as boto3 finds them, e.g. AWS_ACCESS_KEY_ID).
        self.LOOPDESK_FILE_STORE = os.environ.get("LOOPDESK_FILE_STORE", "folder")
        #: Days a finished file is kept for its download (an export holds customers' personal data); then removed.
        self.LOOPDESK_JOB_FILE_DAYS = float(os.environ.get("LOOPDESK_JOB_FILE_DAYS", "7"))
        self.LOOPDESK_S3_BUCKET = os.environ.get("LOOPDESK_S3_BUCKET") or None
        #: Days after a known customer's last activity when the sweep erases them (个人信息保护法); 0: never.
        self.LOOPDESK_CUSTOMER_RETENTION_DAYS = float(os.environ.get("LOOPDESK_CUSTOMER_RETENTION_DAYS", "0"))
        #: The largest customer import file accepted, in MiB.
        self.LOOPDESK_CUSTOMER_IMPORT_MAX_MB = float(os.environ.get("LOOPDESK_CUSTOMER_IMPORT_MAX_MB", "50"))
        self.LOOPDESK_S3_PREFIX = os.environ.get("LOOPDESK_S3_PREFIX", "loopdesk/")
        self.LOOPDESK_S3_ENDPOINT_URL = os.environ.get("LOOPDESK_S3_ENDPOINT_URL") or None
        #: Head office's time zone: admin pages that belong to no branch (the audit log) show times in it.
        self.LOOPDESK_HOME_TIMEZONE = os.environ.get("LOOPDESK_HOME_TIMEZONE", "Asia/Shanghai")
        # Behind a reverse proxy, how many X-Forwarded-* hops to trust.
        self.LOOPDESK_PROXY_HOPS = int(os.environ.get("LOOPDESK_PROXY_HOPS", "0"))
        self.LOOPDESK_FORCE_HTTPS = _flag("LOOPDESK_FORCE_HTTPS", False)
        # Rate limits for the public survey. One branch's Wi-Fi puts many phones
        # behind one address, so the per-address limit is generous and the tight
        # one is per device (anonymous cookie).
        self.LOOPDESK_SURVEY_LIMIT_PER_DEVICE = os.environ.get(
            "LOOPDESK_SURVEY_LIMIT_PER_DEVICE", "60/minute"
        )
        self.LOOPDESK_SURVEY_LIMIT_PER_ADDRESS = os.environ.get(
            "LOOPDESK_SURVEY_LIMIT_PER_ADDRESS", "1200/minute;20000/hour"
        )
        # How long questionnaire windows and targeting are kept in memory on the survey's hot path.
        self.LOOPDESK_SURVEY_CACHE_SECONDS = float(os.environ.get("LOOPDESK_SURVEY_CACHE_SECONDS", "10"))
        # Customers looking up their ticket by code and phone digits: per address, against guessing.
        self.LOOPDESK_STATUS_LOOKUP_LIMIT = os.environ.get("LOOPDESK_STATUS_LOOKUP_LIMIT", "10/minute;30/hour")
        # Sign-in attempts per address (generous: a branch signs in from behind one address) and per account.
        self.LOOPDESK_LOGIN_LIMIT = os.environ.get("LOOPDESK_LOGIN_LIMIT", "30/minute;300/hour")
        self.LOOPDESK_LOGIN_ACCOUNT_LIMIT = os.environ.get("LOOPDESK_LOGIN_ACCOUNT_LIMIT", "5/minute;30/hour")
        # Requests per API key (one limit, a fixed window): /api/v1 answers 429 with Retry-After past it.
        self.LOOPDESK_API_RATE_LIMIT = os.environ.get("LOOPDESK_API_RATE_LIMIT", "600 per minute")
        # Seconds a kiosk's thank-you page stays before the survey starts over.
        self.LOOPDESK_KIOSK_RESTART_SECONDS = int(os.environ.get("LOOPDESK_KIOSK_RESTART_SECONDS", "8"))
        # A kiosk's thank-you page that shows a reference code and its QR code stays at least this long (scan time).
        self.LOOPDESK_KIOSK_CODE_SECONDS = int(os.environ.get("LOOPDESK_KIOSK_CODE_SECONDS", "30"))
        # Submitted responses the job did not pick up are swept after this many seconds.
        self.LOOPDESK_SWEEP_AFTER_SECONDS = int(os.environ.get("LOOPDESK_SWEEP_AFTER_SECONDS", "60"))
        # Data quality (app/core/quality.py): a response whose pace (seconds per tap on the path it took) is below
        # this share of its version's median pace is "too fast"; a survey asking at least this many questions is
        # long (under 2 minutes is too fast); a second submission from one device at one branch within these hours
        # is a repeat; the same answer to every rating is straight-lining from this many ratings on.
        self.LOOPDESK_SPEEDER_FRACTION = float(os.environ.get("LOOPDESK_SPEEDER_FRACTION", "0.33"))
        self.LOOPDESK_LONG_SURVEY_QUESTIONS = int(os.environ.get("LOOPDESK_LONG_SURVEY_QUESTIONS", "10"))
        self.LOOPDESK_REPEAT_DEVICE_HOURS = float(os.environ.get("LOOPDESK_REPEAT_DEVICE_HOURS", "1"))
        self.LOOPDESK_STRAIGHT_LINE_MIN_RATINGS = int(os.environ.get("LOOPDESK_STRAIGHT_LINE_MIN_RATINGS", "5"))
        # Ballot stuffing: this many submissions from one network address, or through one QR code, at one branch
        # within these minutes are a burst (all flagged; one ticket). Raise them for a branch whose customers
        # share its Wi-Fi. Kiosks are never judged.
        self.LOOPDESK_SUBMISSION_BURST_ADDRESS = int(os.environ.get("LOOPDESK_SUBMISSION_BURST_ADDRESS", "3"))
        self.LOOPDESK_SUBMISSION_BURST_CODE = int(os.environ.get("LOOPDESK_SUBMISSION_BURST_CODE", "30"))
        self.LOOPDESK_SUBMISSION_BURST_MINUTES = float(os.environ.get("LOOPDESK_SUBMISSION_BURST_MINUTES", "10"))
        # How often the SLA sweep escalates tickets whose next deadline came (and sends what is due).
        # A low score with contact details puts a call-back task on the ticket, due this many hours later.
        self.LOOPDESK_CALLBACK_HOURS = int(os.environ.get("LOOPDESK_CALLBACK_HOURS", "24"))
        self.LOOPDESK_SLA_SWEEP_SECONDS = int(os.environ.get("LOOPDESK_SLA_SWEEP_SECONDS", "60"))
        # Alerts (app/services/insight/alerts.py): a branch's CSAT or index of the last 7 days lower than the 28
        # days before by more than this share (the guides: drops sharply, 50 %), or its negative feedback
        # above 5 %, when each period holds at least this many counted responses.
        self.LOOPDESK_ALERT_DROP_SHARE = float(os.environ.get("LOOPDESK_ALERT_DROP_SHARE", "0.5"))
        self.LOOPDESK_ALERT_MIN_SAMPLE = int(os.environ.get("LOOPDESK_ALERT_MIN_SAMPLE", "20"))
        # The real-time alert (a burst of unhappy customers): at least this many negative responses that are at
        # least this share (percent) of a branch's responses within this many minutes. A branch may set its own.
        self.LOOPDESK_BURST_MIN_NEGATIVE = int(os.environ.get("LOOPDESK_BURST_MIN_NEGATIVE", "3"))
        self.LOOPDESK_BURST_MIN_SHARE_PERCENT = int(os.environ.get("LOOPDESK_BURST_MIN_SHARE_PERCENT", "50"))
        self.LOOPDESK_BURST_WINDOW_MINUTES = int(os.environ.get("LOOPDESK_BURST_WINDOW_MINUTES", "15"))
        # E-mail over SMTP. Without SMTP_HOST e-mails only go to the log and the outbox page.
        self.SMTP_HOST = os.environ.get("SMTP_HOST") or None
        self.SMTP_PORT = int(os.environ.get("SMTP_PORT", "587"))
        self.SMTP_USER = os.environ.get("SMTP_USER") or None
        self.SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD") or None
        self.SMTP_FROM = os.environ.get("SMTP_FROM", "loopdesk@localhost")
        self.LOOPDESK_SMTP_TIMEOUT_SECONDS = float(os.environ.get("LOOPDESK_SMTP_TIMEOUT_SECONDS", "10"))
        # Text messages to customers: an HTTP gateway that takes POST {"to": …, "body": …} (JSON) with this bearer
        # token. Without LOOPDESK_SMS_URL no text message is written or sent (e-mail and the status page remain).
        self.LOOPDESK_SMS_URL = os.environ.get("LOOPDESK_SMS_URL") or None
        self.LOOPDESK_SMS_TOKEN = os.environ.get("LOOPDESK_SMS_TOKEN") or None
        self.LOOPDESK_SMS_TIMEOUT_SECONDS = float(os.environ.get("LOOPDESK_SMS_TIMEOUT_SECONDS", "10"))
        # Outgoing HTTP reaches public addresses only; these hosts (as written in URLs) may be internal.
        self.LOOPDESK_OUTGOING_ALLOWED_HOSTS = [
            part.strip() for part in os.environ.get("LOOPDESK_OUTGOING_ALLOWED_HOSTS", "").split(",") if part.strip()
        ]
        # Webhooks: seconds per attempt, deliveries per endpoint queued or running at once (with Redis),
        # and the waits before each retry (their count is the retries).
        self.LOOPDESK_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("LOOPDESK_WEBHOOK_TIMEOUT_SECONDS", "5"))
        self.LOOPDESK_WEBHOOK_CONCURRENCY = int(os.environ.get("LOOPDESK_WEBHOOK_CONCURRENCY", "2"))
        self.LOOPDESK_WEBHOOK_RETRY_SECONDS = [
            int(part) for part in os.environ.get("LOOPDESK_WEBHOOK_RETRY_SECONDS", "10,60,300,900,3600").split(",")
            if part.strip()
        ]

        # Embedded SQLite: how long a write waits for another writer's lock before it is tried again
        # (app/models/busy.py).
        self.LOOPDESK_SQLITE_BUSY_SECONDS = float(os.environ.get("LOOPDESK_SQLITE_BUSY_SECONDS", "5"))

        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_REFRESH_EACH_REQUEST = False  # re-sign the cookie only when the session changes
        self.SESSION_COOKIE_SECURE = self.LOOPDESK_FORCE_HTTPS
        self.REMEMBER_COOKIE_SECURE = self.LOOPDESK_FORCE_HTTPS
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        # "Keep me signed in" on a shared tablet: this many days (the cookie also ends with the session version).
        self.REMEMBER_COOKIE_DURATION = timedelta(days=float(os.environ.get("LOOPDESK_REMEMBER_DAYS", "30")))
        self.PERMANENT_SESSION_LIFETIME = 60 * 60 * 24
        # A survey left open on a phone must still submit: the token lives as long as the session.
        self.WTF_CSRF_TIME_LIMIT = None
        self.BABEL_DEFAULT_LOCALE = "en"
        self.BABEL_TRANSLATION_DIRECTORIES = "translations"
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        if self.REDIS_URL:  # a Redis that hangs (not refused) costs a survey tap a second, not a minute
            self.RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
        self.RATELIMIT_HEADERS_ENABLED = False  # each header costs a storage round trip per request
        # A Redis outage must not stop customers: fall back to per-process limits.
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        self.RATELIMIT_SWALLOW_ERRORS = True
        self.RATELIMIT_STRATEGY = "fixed-window"
        # Pages and API answers, compressed per response; static files are compressed at build time (app/static_files.py).
        self.COMPRESS_MIMETYPES = ["text/html", "image/svg+xml", "application/json"]
        self.COMPRESS_ALGORITHM = ["br", "gzip"]
        self.COMPRESS_ALGORITHM_STREAMING = ["br", "deflate"]
        self.COMPRESS_MIN_SIZE = 300
