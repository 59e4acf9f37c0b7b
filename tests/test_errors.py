"""The error pages: 400, 403, 404 and 500 in the base layout, saying what happened and what next."""

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse

from tests.conftest import user_in

pytestmark = pytest.mark.django_db

BARE_500 = "<h1>Server Error (500)</h1>"


def database_down(execute, sql, params, many, context):
    """Every query fails, as when the database server has gone away."""
    raise OperationalError("could not connect to server: Connection refused")


def test_a_role_without_the_page_gets_a_styled_403_naming_the_pages_it_can_open(as_moderator):
    response = as_moderator.get(reverse("audit:list"))
    assert response.status_code == 403
    page = response.content.decode()
    assert 'data-error-page="403"' in page
    assert 'class="topbar"' in page
    assert "You are signed in as <strong>mod</strong>, but your account lacks the role" in page
    assert f'href="{reverse("mutes:lookup")}" data-error-link="lookup"' in page
    assert 'data-error-link="audit"' not in page


def test_a_user_with_no_role_is_told_so(client):
    client.force_login(user_in("newcomer"))
    response = client.get(reverse("mutes:lookup"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "Your account has no role yet, so there is no page you can open" in page
    assert "Sign out" in page


def test_bulk_turns_moderators_away_with_the_styled_403(as_moderator):
    response = as_moderator.get(reverse("bulk:form"))
    assert response.status_code == 403
    assert 'data-error-page="403"' in response.content.decode()


def test_signed_out_visitors_are_still_sent_to_sign_in(client):
    response = client.get(reverse("audit:list"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={reverse('audit:list')}"


def test_an_unknown_address_gets_a_styled_404_with_a_way_back(as_lead):
    here = "http://testserver" + reverse("audit:list")
    response = as_lead.get("/no/such/page/", HTTP_REFERER=here)
    assert response.status_code == 404
    page = response.content.decode()
    assert 'data-error-page="404"' in page
    assert "Nothing is at <code>/no/such/page/</code>" in page
    assert f'href="{here}" data-error-link="back"' in page
    assert 'data-error-link="audit"' in page


def test_a_404_never_links_back_to_another_site(as_lead):
    response = as_lead.get("/no/such/page/", HTTP_REFERER="https://evil.example/")
    assert response.status_code == 404
    assert "evil.example" not in response.content.decode()


def test_signed_out_visitors_get_a_404_offering_to_sign_in(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert f'href="{reverse("login")}" data-error-link="login"' in page


def test_a_missing_bulk_job_is_a_styled_404(as_lead):
    response = as_lead.get(reverse("bulk:job", args=[987654]))
    assert response.status_code == 404
    assert 'data-error-page="404"' in response.content.decode()


def test_a_request_for_another_host_gets_a_styled_400():
    response = Client(raise_request_exception=False).get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-error-page="400"' in page
    assert "This request could not be read" in page


def test_a_database_outage_gives_the_styled_500_page(lead):
    client = Client(raise_request_exception=False)
    client.force_login(lead)
    with connection.execute_wrapper(database_down):
        response = client.get(reverse("mutes:account", args=["alice"]))
    assert response.status_code == 500
    page = response.content.decode()
    assert BARE_500 not in page
    assert 'data-error-page="500"' in page
    assert 'class="topbar"' in page
    assert "Something went wrong on our side" in page
    assert f'href="{reverse("mutes:lookup")}" data-error-link="home"' in page
    assert f'href="{reverse("login")}" data-error-link="login"' in page
    # Drawn without the user: the navigation of a signed-in page is not there.
    assert "Signed in as" not in page


def test_the_500_page_reads_nothing_from_the_database(rf, django_assert_num_queries):
    from muteadmin.core.errors import server_error

    with django_assert_num_queries(0):
        response = server_error(rf.get("/audit/"))
    assert response.status_code == 500
    assert "The page at <code>/audit/</code> could not be shown" in response.content.decode()
