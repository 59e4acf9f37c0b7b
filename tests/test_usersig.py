"""UserSig signing against Tencent's published vectors, and decoding what we sign."""

import base64
import json
import zlib

import pytest

from muteadmin.tencent.usersig import (
    UserSigFormatError,
    usersig_decode,
    usersig_hmac,
    usersig_sign,
)

DOC_KEY = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"


@pytest.mark.parametrize(
    ("identifier", "sdkappid", "time", "expire", "expected"),
    [
        ("xiaojun", 1400000000, 1600000000, 86400, "F7rhX8gUOlwhSaoxU1nT9fNB9LShQdL1ReCJfHY1Ffo="),
        ("admin", 1400000000, 1700000000, 15552000, "3cjTnO/gKL/+FXJRADCK1V3clKvy6z5MYmn9ENXsWkI="),
        (
            "administrator",
            1400000001,
            1650000000,
            604800,
            "hyRP9aAiPNmbcf+YvebwGDpL8plxCx0qVlKMZvPElJc=",
        ),
    ],
)
def test_usersig_hmac_matches_tencent_vectors(identifier, sdkappid, time, expire, expected):
    sig = usersig_hmac(
        secret_key=DOC_KEY, identifier=identifier, sdkappid=sdkappid, time=time, expire=expire
    )
    assert sig == expected


def test_signed_usersig_decodes_to_the_signed_fields_and_a_matching_hmac():
    usersig = usersig_sign(
        secret_key=DOC_KEY, identifier="administrator", sdkappid=1400000001, time=1650000000,
        expire=604800,
    )  # fmt: skip

    document = usersig_decode(usersig)

    assert document == {
        "TLS.ver": "2.0",
        "TLS.identifier": "administrator",
        "TLS.sdkappid": 1400000001,
        "TLS.expire": 604800,
        "TLS.time": 1650000000,
        "TLS.sig": "hyRP9aAiPNmbcf+YvebwGDpL8plxCx0qVlKMZvPElJc=",
    }


def test_usersig_uses_the_url_safe_alphabet():
    for identifier in ("xiaojun", "admin", "administrator", "a" * 32):
        usersig = usersig_sign(
            secret_key=DOC_KEY, identifier=identifier, sdkappid=1400000000, time=1, expire=60
        )
        assert not set(usersig) & set("+/=")


def test_usersig_from_another_key_decodes_but_carries_a_different_hmac():
    fields = {"identifier": "admin", "sdkappid": 1400000000, "time": 1700000000, "expire": 60}
    ours = usersig_decode(usersig_sign(secret_key=DOC_KEY, **fields))
    theirs = usersig_decode(usersig_sign(secret_key="another-key", **fields))
    assert ours["TLS.sig"] != theirs["TLS.sig"]
    assert ours["TLS.identifier"] == theirs["TLS.identifier"] == "admin"


@pytest.mark.parametrize("garbage", ["", "not a usersig!", "eJzLSM3JyQcABiwCFQ__*"])
def test_decoding_garbage_raises_usersig_format_error(garbage):
    with pytest.raises(UserSigFormatError):
        usersig_decode(garbage)


def test_decoding_a_usersig_without_a_json_object_raises_usersig_format_error():
    compressed = zlib.compress(json.dumps(["TLS.ver", "2.0"]).encode())
    not_an_object = base64.b64encode(compressed).decode().translate(str.maketrans("+/=", "*-_"))
    with pytest.raises(UserSigFormatError):
        usersig_decode(not_an_object)
