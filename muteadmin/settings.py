"""Settings for muteadmin, read from the environment (and a `.env` file if present).

Every name read here is documented in `.env.example`.
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# Secrets have no production default: a development key is only offered while DEBUG is on.
if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-change-me-0123456789abcdef")
else:
    SECRET_KEY = env.str("SECRET_KEY")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Before django_tasks_db: its `db_worker` command is this app's (the library's, first
    # queuing the periodic tick).
    "muteadmin.periodic",
    "django_tasks_db",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    # Single sign-on through an OpenID Connect provider, answering only when OIDC_* configure it.
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "muteadmin.core",
    "muteadmin.upstream",
    "muteadmin.audit",
    "muteadmin.sandbox",
    "muteadmin.mutes",
    "muteadmin.reports",
    "muteadmin.bulk",
    "muteadmin.policies",
    "muteadmin.approvals",
    "muteadmin.team",
    "muteadmin.signin",
    "muteadmin.rules",
    "muteadmin.notices",
    "muteadmin.scheduled",
    "muteadmin.reminders",
    "muteadmin.metrics",
    "muteadmin.preferences",
    "rest_framework",
    "drf_spectacular",
    "muteadmin.api",
    "muteadmin.reconcile",
    "muteadmin.robots",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language from the cookie the switch sets, else Accept-Language, else LANGUAGE_CODE.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # The signed-in user's saved language (beating the cookie and the browser) and time zone.
    "muteadmin.preferences.middleware.PreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # After messages: each may leave the user a message about their session.
    "muteadmin.signin.middleware.SessionLimitsMiddleware",
    "muteadmin.signin.middleware.MFAEnrolmentMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "muteadmin.urls"
# A bulk job's pasted list of up to 100,000 UserIDs is a few megabytes.
DATA_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024
WSGI_APPLICATION = "muteadmin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "muteadmin.upstream.context_processors.upstream",
                "muteadmin.approvals.context_processors.waiting_requests",
                "muteadmin.preferences.context_processors.preferences",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
            ],
        },
    },
    # Fragments drawn many times a page (the audit list's rows and chart), named *.jinja and
    # rendered by name with this engine: its compiled templates cost a tenth of Django's there.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "NAME": "fragments",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "muteadmin.core.fragments.environment"},
    },
]

# Forms drawn as Django's are, except that a field sent back with an error takes the focus.
FORM_RENDERER = "muteadmin.core.formfocus.FocusOnErrorRenderer"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# Audit rows are committed before each upstream call, so requests must not run in one transaction.
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets page views read while another process writes audit rows.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            # Take the write lock when a transaction starts, so concurrent writers queue
            # instead of failing on a lock upgrade.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# In the database, so every worker process shares it: allauth keeps its second-factor attempt
# counts and used one-time codes here. The table is made by the signin app's migrations.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "muteadmin_cache",
    }
}

# ModelBackend, with each request's permissions read in one query instead of two, and the
# user's chosen language and zone (every page draws in them) read with the user.
AUTHENTICATION_BACKENDS = ["muteadmin.core.permissions.OneQueryModelBackend"]
AUTH_USER_READ_WITH = ("preferences.Preference", ("language", "time_zone", "csv_bom"))
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "mutes:lookup"
LOGOUT_REDIRECT_URL = "login"

# Sign-in goes through django-allauth (muteadmin/signin): usernames, no sign-up, no e-mail.
ACCOUNT_ADAPTER = "muteadmin.signin.adapter.SignInAdapter"
ACCOUNT_FORMS = {"login": "muteadmin.signin.forms.SignInForm"}
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
# The session cookie ends with the browser; the server ends it sooner (SESSION_* below).
ACCOUNT_SESSION_REMEMBER = False
# The sign-in page stays a sign-in page when signed in already (to switch user, or when the admin
# sends a user who may not use it there), instead of bouncing back to where it was sent from.
ACCOUNT_AUTHENTICATED_LOGIN_REDIRECTS = False
# After this many failures for one account (or from one address) within LOGIN_LOCKOUT_MINUTES,
# sign-in is refused for LOGIN_LOCKOUT_MINUTES, even with the right password.
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=10)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=50)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
# Failed sign-ins are throttled by muteadmin/signin/throttle.py, per account and per address and
# shared by every worker through the database; successful ones are never limited.
# allauth's own "login_failed" limit then only counts wrong second-factor codes, per account.
ACCOUNT_RATE_LIMITS = {
    "login": None,
    "login_failed": f"{LOGIN_FAILURES_PER_ACCOUNT}/{LOGIN_LOCKOUT_MINUTES}m/key",
}

# Two-factor sign-in: TOTP apps and recovery codes. Members of MFA_REQUIRED_GROUPS must enrol
# before using the dashboard; empty means optional for everyone (the default while DEBUG, so the
# demo login reaches the dashboard at once).
MFA_ADAPTER = "muteadmin.signin.adapter.TwoFactorAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "muteadmin"
MFA_REQUIRED_GROUPS = env.list("MFA_REQUIRED_GROUPS", default=[] if DEBUG else ["Lead", "Auditor"])

# Single sign-on with an OpenID Connect provider (muteadmin/signin/sso.py), off until
# OIDC_SERVER_URL, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are set. The provider's OIDC_ROLE_CLAIM
# values map to roles through OIDC_ROLE_MAP ("claim-value:Role,..."), applied at every sign-in.
# With OIDC_TRUST_PROVIDER_MFA on, the provider's own second factor stands in for
# MFA_REQUIRED_GROUPS' requirement; off, single sign-on users must enrol here too.
OIDC_NAME = env.str("OIDC_NAME", default="SSO")
OIDC_SERVER_URL = env.str("OIDC_SERVER_URL", default="")
OIDC_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
OIDC_SCOPES = env.list("OIDC_SCOPES", default=["openid", "profile"])
OIDC_ROLE_CLAIM = env.str("OIDC_ROLE_CLAIM", default="groups")
OIDC_ROLE_MAP = env.list("OIDC_ROLE_MAP", default=[])
OIDC_TRUST_PROVIDER_MFA = env.bool("OIDC_TRUST_PROVIDER_MFA", default=True)
SOCIALACCOUNT_ADAPTER = "muteadmin.signin.sso_adapter.SingleSignOnAdapter"
# An identity from the provider is never joined to an existing account by its e-mail address.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_STORE_TOKENS = False

# A session ends after SESSION_IDLE_MINUTES without a request, and SESSION_MAX_HOURS after
# sign-in whatever happens (muteadmin/signin/middleware.py); the stored session lasts no longer.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_MAX_HOURS = env.int("SESSION_MAX_HOURS", default=12)
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600

# The default language, and the one management commands speak; each user may choose another
# (muteadmin/preferences), else the browser's Accept-Language picks one of LANGUAGES.
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"LANGUAGE_CODE must be one of: {', '.join(dict(LANGUAGES))}.")
LOCALE_PATHS = [BASE_DIR / "locale"]
# The admin writes dates as every other page does (muteadmin/core/moments.py).
FORMAT_MODULE_PATH = ["muteadmin.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}


def _origin(url: str) -> str:
    """The scheme, host and port of a URL, or empty for none."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


# No inline script or style anywhere: everything comes from our own static files.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    # The single sign-on button's form is answered with a redirect to the provider, which the
    # browser checks against form-action too.
    "form-action": [CSP.SELF, *filter(None, [_origin(OIDC_SERVER_URL)])],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Tencent Cloud Chat. Without TIM_SDKAPPID the built-in sandbox emulator answers every call.
# TIM_APPS (a JSON list, or the path of a file holding one) names several apps instead; see
# .env.example. The single-app settings below then only give TIM_RATE_LIMIT's default.
TIM_APPS = env.str("TIM_APPS", default="")
TIM_SDKAPPID = env.int("TIM_SDKAPPID", default=None)
TIM_SECRET_KEY = env.str("TIM_SECRET_KEY", default="")
TIM_ADMIN_IDENTIFIER = env.str("TIM_ADMIN_IDENTIFIER", default="administrator")
TIM_REGION = env.str("TIM_REGION", default="china")
TIM_API_BASE_URL = env.str("TIM_API_BASE_URL", default="")
# Sandbox only: added to every emulated call, for demos and benchmarks.
TIM_SANDBOX_LATENCY_MS = env.int("TIM_SANDBOX_LATENCY_MS", default=0)
# Upstream calls per second across every thread and process sharing the database (Tencent's cap).
TIM_RATE_LIMIT = env.int("TIM_RATE_LIMIT", default=200)

# Bulk jobs run in `manage.py db_worker` processes, queued in the database.
# Accounts one job takes at most (larger lists are split into several jobs), threads each worker
# claims and calls with, and accounts per page of a job's results.
BULK_MAX_ACCOUNTS = env.int("BULK_MAX_ACCOUNTS", default=100_000)
BULK_WORKER_THREADS = env.int("BULK_WORKER_THREADS", default=2)
BULK_RESULTS_PAGE_SIZE = 100
# Mute limits and requests (muteadmin.policies, muteadmin.approvals): hours a request for a
# mute above the requester's limit waits for a Lead's decision before it expires, and whether a
# permanent mute always needs a second person's approval, even a Lead's.
MUTE_REQUEST_TTL_HOURS = env.int("MUTE_REQUEST_TTL_HOURS", default=24)
REQUIRE_SECOND_PERSON_FOR_PERMANENT = env.bool("REQUIRE_SECOND_PERSON_FOR_PERMANENT", default=False)
# The reconcile (muteadmin.reconcile): minutes between runs in the worker, and the share of each
# Tencent cap its lookups keep to ("25%" or "0.25"), leaving the rest to people.
RECONCILE_EVERY_MINUTES = env.int("RECONCILE_EVERY_MINUTES", default=60)
RECONCILE_SHARE = env.str("RECONCILE_SHARE", default="25%")
# The periodic tick (muteadmin/periodic): how often a worker looks for periodic jobs due.
PERIODIC_TICK_SECONDS = 30
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# The audit log (README, "The audit log"). AUDIT_CHAIN_KEY keys each completed row's hash
# (required unless DEBUG; never stored in the database); checkpoints of the chain's head go to
# the log and, when AUDIT_CHECKPOINT_PATH is set, are appended to that file, every
# AUDIT_CHECKPOINT_ROWS chained rows, at least every AUDIT_CHECKPOINT_SECONDS while rows
# complete, and every AUDIT_CHECKPOINT_EVERY_MINUTES by the worker's periodic job.
# AUDIT_MAINTENANCE_ROLE: the PostgreSQL role allowed to repair completed rows (empty: the role
# that runs `migrate`), recorded in the guard when it is installed.
AUDIT_CHAIN_KEY = env.str("AUDIT_CHAIN_KEY", default="")
AUDIT_CHECKPOINT_PATH = env.str("AUDIT_CHECKPOINT_PATH", default="")
AUDIT_CHECKPOINT_ROWS = 1_000
AUDIT_CHECKPOINT_SECONDS = 3_600
AUDIT_CHECKPOINT_EVERY_MINUTES = env.int("AUDIT_CHECKPOINT_EVERY_MINUTES", default=60)
AUDIT_MAINTENANCE_ROLE = env.str("AUDIT_MAINTENANCE_ROLE", default="")
# A row still pending this long after it was begun is completed as "unknown" by the sweeper
# (muteadmin/audit/sweeper.py): well past the longest call (a bulk call's 60 s with retries).
AUDIT_PENDING_SWEEP_AFTER_SECONDS = env.int("AUDIT_PENDING_SWEEP_AFTER_SECONDS", default=300)

# /metrics (Prometheus's text format) answers a scraper sending this as a Bearer token; empty:
# /metrics is off (404).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# The JSON API at /api/v1/ (muteadmin/api): bearer tokens only, never the session; each token's
# requests per period (API_TOKEN_RATE, "60/min"), answered 429 with Retry-After beyond it.
API_TOKEN_RATE = env.str("API_TOKEN_RATE", default="60/min")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["muteadmin.api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["muteadmin.api.permissions.TokenScope"],
    "DEFAULT_THROTTLE_CLASSES": ["muteadmin.api.throttling.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "muteadmin.api.problems.problem_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "muteadmin API",
    "DESCRIPTION": _(
        "Look up and change Tencent Cloud Chat mutes, run bulk jobs and read the audit log "
        "through the same services, limits, approvals and audit rows as the pages. "
        "Send Authorization: Bearer <token>; errors are RFC 9457 problem details."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # The schema says what texts marked for translation say, never the (English-only) docstrings.
    "DISABLE_DOCSTRING_DESCRIPTIONS": True,
    # A field's choices are listed by the docs page, not appended to its description as Markdown.
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    # Parameters in the order declared: the path's first, then the filters as the pages show them.
    "SORT_OPERATION_PARAMETERS": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "muteadmin.tencent.redaction.RedactSecretsFilter"}},
    "formatters": {
        "plain": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
