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


# Several apps


def test_a_good_tim_apps_is_clean(settings):
    settings.TIM_APPS = (
        '[{"name": "prod", "sdkappid": 1400123456, "secret_key": "k", "region": "seoul"},'
        ' {"name": "staging", "sandbox": true}]'
    )
    assert ids() == set()


def test_a_broken_tim_apps_is_an_error_with_its_sentence(settings):
    settings.TIM_APPS = '[{"name": "prod", "sdkappid": 1400123456, "secret_key": ""}]'
    (error,) = check_tencent_settings(None)
    assert error.id == "muteadmin.E007"
    assert "secret_key is empty" in error.msg


def test_tim_apps_beside_the_single_app_settings_is_an_error(settings):
    settings.TIM_APPS = '[{"name": "staging", "sandbox": true}]'
    settings.TIM_SDKAPPID = 1400012345
    assert ids() == {"muteadmin.E008"}


def test_a_plain_http_app_in_tim_apps_is_refused_in_production(settings):
    settings.TIM_APPS = (
        '[{"name": "local", "sdkappid": 1400123456, "secret_key": "k",'
        ' "base_url": "http://127.0.0.1:9000"}]'
    )
    settings.DEBUG = False
    assert ids() == {"muteadmin.E006"}
