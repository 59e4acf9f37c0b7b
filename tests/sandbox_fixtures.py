"""Helpers shared by the sandbox emulator tests: building signed Tencent REST URLs."""

import base64
import hashlib
import hmac
import json
import zlib
from urllib.parse import urlencode

from muteadmin.sandbox.credentials import SandboxCredentials
from muteadmin.tencent.usersig import usersig_sign

ADMIN_SIG_LIFETIME = 86400


def tencent_usersig(
    *, secret_key: str, identifier: str, sdkappid: int, time: int, expire: int
) -> str:
    """A UserSig built step by step as Tencent's TLSSigAPIv2 Python code builds it."""
    content = (
        f"TLS.identifier:{identifier}\nTLS.sdkappid:{sdkappid}\n"
        f"TLS.time:{time}\nTLS.expire:{expire}\n"
    )
    digest = hmac.new(secret_key.encode("utf-8"), content.encode("utf-8"), hashlib.sha256).digest()
    document = {}
    document["TLS.ver"] = "2.0"
    document["TLS.identifier"] = str(identifier)
    document["TLS.sdkappid"] = int(sdkappid)
    document["TLS.expire"] = int(expire)
    document["TLS.time"] = int(time)
    document["TLS.sig"] = base64.b64encode(digest).decode()
    # Default separators (", " and ": "), unlike muteadmin's own compact signer.
    compressed = zlib.compress(json.dumps(document).encode("utf-8"))
    encoded = base64.b64encode(compressed).decode()
    return encoded.replace("+", "*").replace("/", "-").replace("=", "_")


def usersig_encode(document: dict) -> str:
    """Wrap any JSON document the way a UserSig is wrapped (for malformed-UserSig tests)."""
    compressed = zlib.compress(json.dumps(document).encode())
    return base64.b64encode(compressed).decode().translate(str.maketrans("+/=", "*-_"))


def signed_url(
    base_url: str,
    command: str,
    *,
    credentials: SandboxCredentials,
    time: int,
    service: str = "openconfigsvr",
    **overrides: str | None,
) -> str:
    """A REST URL signed for the admin at `time`; an override of None drops that parameter."""
    query: dict[str, str | None] = {
        "sdkappid": str(credentials.sdkappid),
        "identifier": credentials.identifier,
        "usersig": usersig_sign(
            secret_key=credentials.secret_key,
            identifier=credentials.identifier,
            sdkappid=credentials.sdkappid,
            time=time,
            expire=ADMIN_SIG_LIFETIME,
        ),
        "random": "3141592653",
        "contenttype": "json",
    }
    query.update(overrides)
    kept = {name: value for name, value in query.items() if value is not None}
    return f"{base_url}/v4/{service}/{command}?{urlencode(kept, safe='*-_')}"
