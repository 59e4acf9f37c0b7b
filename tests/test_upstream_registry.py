"""The Chat apps the dashboard manages: one from the TIM_* settings, or several from TIM_APPS."""

import json

import pytest

from muteadmin.upstream.registry import (
    DEFAULT_APP,
    SANDBOX_SDKAPPID,
    TimAppsError,
    tim_app,
    tim_apps,
)

PROD = {
    "name": "prod",
    "label": "Production",
    "sdkappid": 1400123456,
    "secret_key": "prod-key",
    "region": "singapore",
}


def test_without_settings_the_one_app_is_the_sandbox_named_default():
    app = tim_app()
    assert (app.name, app.sandbox, app.sdkappid) == (DEFAULT_APP, True, SANDBOX_SDKAPPID)
    assert list(tim_apps()) == [DEFAULT_APP]


def test_the_single_app_settings_define_the_default_app(settings):
    settings.TIM_SDKAPPID = 1400012345
    settings.TIM_SECRET_KEY = "k"
    settings.TIM_REGION = "tokyo"
    settings.TIM_RATE_LIMIT = 150
    app = tim_app(DEFAULT_APP)
    assert (app.sandbox, app.sdkappid, app.rate_limit) == (False, 1400012345, 150)
    assert app.base_url == "https://adminapijpn.im.qcloud.com"


def test_tim_apps_names_several_apps_the_first_being_the_default(settings):
    settings.TIM_APPS = json.dumps([PROD, {"name": "staging", "sandbox": True}])
    assert list(tim_apps()) == ["prod", "staging"]
    assert tim_app().name == "prod"
    prod, staging = tim_app("prod"), tim_app("staging")
    assert (prod.label, prod.base_url, prod.identifier) == (
        "Production",
        "https://adminapisgp.im.qcloud.com",
        "administrator",
    )
    assert (staging.sandbox, staging.label) == (True, "staging")
    # Each emulated app keeps mutes of its own.
    assert staging.sdkappid == SANDBOX_SDKAPPID + 1
    with pytest.raises(KeyError):
        tim_app("nowhere")


def test_tim_apps_may_be_a_file(settings, tmp_path):
    path = tmp_path / "apps.json"
    path.write_text(json.dumps([PROD]), encoding="utf-8")
    settings.TIM_APPS = str(path)
    assert list(tim_apps()) == ["prod"]


def test_the_secret_key_is_never_in_the_apps_repr(settings):
    settings.TIM_APPS = json.dumps([PROD])
    assert "prod-key" not in repr(tim_app())


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("[", "not valid JSON"),
        ("{}", "cannot be read"),
        ("[]", "JSON list"),
        ("[1]", "JSON object"),
        (json.dumps([{**PROD, "name": "Prod!"}]), "lower-case"),
        (json.dumps([PROD, PROD]), "twice"),
        (json.dumps([{**PROD, "secret_key": ""}]), "secret_key is empty"),
        (json.dumps([{**PROD, "region": "mars"}]), "singapore"),
        (json.dumps([{**PROD, "sdkappid": "14001"}]), "numeric SDKAppID"),
        (json.dumps([{**PROD, "rate_limit": 0}]), "rate_limit"),
        (json.dumps([{**PROD, "colour": "red"}]), "unknown fields: colour"),
        (json.dumps([{**PROD, "base_url": "ftp://x"}]), "not an http(s) URL"),
        (json.dumps([{**PROD, "admin_identifier": "a" * 33}]), "1 to 32"),
    ],
)
def test_a_broken_tim_apps_says_what_to_fix(settings, value, words):
    settings.TIM_APPS = value
    with pytest.raises(TimAppsError, match=words.replace("(", r"\(").replace(")", r"\)")):
        tim_apps()
