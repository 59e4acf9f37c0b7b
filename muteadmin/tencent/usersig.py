"""UserSig (TLSSigAPIv2): signing for the client, decoding for the sandbox's verifier."""

import base64
import hashlib
import hmac
import json
import zlib
from typing import Any

# URL-safe variant used by TLSSigAPIv2: standard base64 with three characters swapped.
_TO_URL = str.maketrans({"+": "*", "/": "-", "=": "_"})
_FROM_URL = str.maketrans({"*": "+", "-": "/", "_": "="})


class UserSigFormatError(ValueError):
    """The UserSig is not a zlib-compressed, base64-encoded TLSSigAPIv2 JSON object."""


def usersig_hmac(*, secret_key: str, identifier: str, sdkappid: int, time: int, expire: int) -> str:
    """Return `TLS.sig`: base64 of HMAC-SHA256 over the four `TLS.*` lines."""
    content = (
        f"TLS.identifier:{identifier}\n"
        f"TLS.sdkappid:{sdkappid}\n"
        f"TLS.time:{time}\n"
        f"TLS.expire:{expire}\n"
    )
    digest = hmac.new(secret_key.encode(), content.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def usersig_sign(*, secret_key: str, identifier: str, sdkappid: int, time: int, expire: int) -> str:
    """Return a UserSig for `identifier`, valid from `time` for `expire` seconds."""
    document = {
        "TLS.ver": "2.0",
        "TLS.identifier": identifier,
        "TLS.sdkappid": sdkappid,
        "TLS.expire": expire,
        "TLS.time": time,
        "TLS.sig": usersig_hmac(
            secret_key=secret_key,
            identifier=identifier,
            sdkappid=sdkappid,
            time=time,
            expire=expire,
        ),
    }
    compressed = zlib.compress(json.dumps(document, separators=(",", ":")).encode())
    return base64.b64encode(compressed).decode().translate(_TO_URL)


def usersig_decode(usersig: str) -> dict[str, Any]:
    """Reverse the encoding steps and parse the JSON document inside a UserSig."""
    try:
        compressed = base64.b64decode(usersig.translate(_FROM_URL), validate=True)
        document = json.loads(zlib.decompress(compressed).decode())
    except (ValueError, zlib.error) as exc:
        raise UserSigFormatError("UserSig cannot be decoded") from exc
    if not isinstance(document, dict):
        raise UserSigFormatError("UserSig does not hold a JSON object")
    return document
