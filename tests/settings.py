"""Test settings: the production settings with fast hashing and DEBUG on."""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "test-secret-key-that-must-never-appear-in-output")

from muteadmin.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405

# Tests run on the sandbox whatever a local .env says; a test that needs Tencent settings sets them.
TIM_SDKAPPID = None
TIM_SECRET_KEY = ""
TIM_ADMIN_IDENTIFIER = "administrator"
TIM_REGION = "china"
TIM_API_BASE_URL = ""
TIM_SANDBOX_LATENCY_MS = 0

# The app keeps no uploaded files; with no MEDIA_URL the test live server would look every path
# up on disk first, percent-decoding it a second time as it does so.
MEDIA_URL = "/media/"

# Every test chains with a key, as production must; a test of unkeyed rows clears it.
AUDIT_CHAIN_KEY = "test-audit-chain-key-that-must-never-appear-in-output"
AUDIT_CHECKPOINT_PATH = ""
AUDIT_CHECKPOINT_EVERY_MINUTES = 60

# Sign-in limits as documented, whatever a local .env says; two-factor sign-in optional unless a
# test names groups that require it.
LOGIN_FAILURES_PER_ACCOUNT = 10
LOGIN_FAILURES_PER_ADDRESS = 50
LOGIN_LOCKOUT_MINUTES = 15
MFA_REQUIRED_GROUPS = []
SESSION_IDLE_MINUTES = 30
SESSION_MAX_HOURS = 12
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600

# Single sign-on off, whatever a local .env says; its tests configure the local provider.
OIDC_SERVER_URL = ""
OIDC_CLIENT_ID = ""
OIDC_CLIENT_SECRET = ""
OIDC_ROLE_MAP = []
OIDC_TRUST_PROVIDER_MFA = True
