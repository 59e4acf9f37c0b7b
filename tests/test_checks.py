"""System checks catch half-done Tencent configuration with a sentence that says how to fix it."""

from django.core import checks

from muteadmin.upstream.checks import check_tencent_settings


def ids() -> set[str]:
    return {message.id for message in check_tencent_settings(None)}


def test_sandbox_configuration_is_clean():
    assert ids() == set()


def test_sdkappid_without_a_key(settings):
    settings.TIM_SDKAPPID = 1400012345
    settings.TIM_SECRET_KEY = ""
    (error,) = check_tencent_settings(None)
    assert error.id == "muteadmin.E001"
    assert error.level == checks.ERROR
    assert "TIM_SECRET_KEY" in error.hint


def test_key_without_an_sdkappid(settings):
    settings.TIM_SECRET_KEY = "k"
    assert ids() == {"muteadmin.W002"}


def test_unknown_region(settings):
    settings.TIM_REGION = "mars"
    (error,) = check_tencent_settings(None)
    assert error.id == "muteadmin.E003"
    assert "singapore" in error.hint


def test_plain_http_base_url_in_production(settings):
    settings.TIM_API_BASE_URL = "http://127.0.0.1:9000"
    settings.DEBUG = True
    assert ids() == set()
    settings.DEBUG = False
    assert ids() == {"muteadmin.E006"}


def test_base_url_without_a_scheme(settings):
    settings.TIM_API_BASE_URL = "adminapisgp.im.qcloud.com"
    assert ids() == {"muteadmin.E005"}


def test_overlong_admin_identifier(settings):
    settings.TIM_ADMIN_IDENTIFIER = "a" * 33
    assert ids() == {"muteadmin.E004"}
