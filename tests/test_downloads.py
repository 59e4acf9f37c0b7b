"""Every spreadsheet download: CSV as before or with a BOM (?bom=1), and .xlsx (?format=xlsx)."""

import io
import re
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from muteadmin.audit.models import AuditEntry
from muteadmin.bulk.runner import RunnerConfig, bulk_job_run
from muteadmin.core.downloads import BOM
from muteadmin.core.workbooks import XLSX_CONTENT_TYPE
from muteadmin.preferences.models import Preference
from muteadmin.tencent.nospeaking import PERMANENT
from tests.conftest import audit_row, bulk_job
from tests.test_reports import seen

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished_job(lead):
    job = bulk_job(
        operator=lead,
        operation="set",
        accounts=["bob", "=cmd", "carol"],
        c2c_seconds=7 * 86400 + 2 * 3600,
        reason="raid",
    )
    bulk_job_run(job_id=job.pk, worker="test:1:a", config=RunnerConfig(threads=1))
    return job


@pytest.fixture
def downloads(finished_job) -> dict[str, tuple[str, dict[str, str]]]:
    """Each CSV download's address and filters, over rows holding what Excel would garble."""
    audit_row(action="change", reason="刷屏 spam", account="alice")
    seen("carol", c2c=3600, operator="lead", reason="刷屏", changed_at=timezone.now())
    return {
        # Only the change: each export adds its own row, which the next one lists.
        "audit": (reverse("audit:export"), {"action": "change"}),
        "report": (reverse("reports:mutes_csv"), {}),
        "bulk": (reverse("bulk:results_csv", args=[finished_job.pk]), {}),
    }


def download(client, downloads, name: str, **params: str):
    url, filters = downloads[name]
    return client.get(url, filters | params)


def body(response) -> bytes:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("name", ["audit", "report", "bulk"])
def test_bom_1_puts_the_utf8_bom_before_the_same_bytes(as_lead, downloads, name):
    plain = body(download(as_lead, downloads, name))
    marked_response = download(as_lead, downloads, name, bom="1")
    marked = body(marked_response)
    assert BOM == b"\xef\xbb\xbf"
    assert marked.startswith(b"\xef\xbb\xbf")
    assert not plain.startswith(b"\xef\xbb\xbf")
    assert marked[3:] == plain
    assert len(plain.splitlines()) > 1
    assert marked_response["Content-Type"] == "text/csv; charset=utf-8"
    assert marked_response["Content-Disposition"].endswith('.csv"')


@pytest.mark.parametrize("name", ["audit", "report", "bulk"])
@pytest.mark.parametrize("value", ["0", "2", "true", "", "1 "])
def test_only_bom_1_asks_for_a_bom(as_lead, downloads, name, value):
    data = body(download(as_lead, downloads, name, bom=value))
    assert not data.startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("name", ["audit", "report", "bulk"])
def test_the_saved_preference_adds_the_bom_unless_bom_0_says_not(as_lead, lead, downloads, name):
    plain = body(download(as_lead, downloads, name))
    Preference.objects.update_or_create(user=lead, defaults={"csv_bom": True})
    marked = body(download(as_lead, downloads, name))
    assert marked.startswith(b"\xef\xbb\xbf")
    assert marked[3:] == plain
    assert body(download(as_lead, downloads, name, bom="0")) == plain


def test_an_audit_export_with_a_bom_is_audited_and_completed(as_lead, downloads):
    lines = body(download(as_lead, downloads, "audit", bom="1")).splitlines()
    entry = AuditEntry.objects.get(action="export")
    assert entry.outcome == "ok"
    changes = AuditEntry.objects.filter(action="change").count()
    assert len(lines) - 1 == changes > 1
    assert entry.details == {"filters": {"action": ["change"]}, "rows": changes}


@pytest.mark.parametrize("name", ["audit", "report", "bulk"])
@pytest.mark.parametrize("value", ["xlsxx", "XLSX", "pdf", "csv\x00"])
def test_a_format_not_offered_is_refused_with_a_sentence(as_lead, downloads, name, value):
    response = download(as_lead, downloads, name, format=value)
    assert response.status_code == 400
    assert "Nothing was exported" in response.content.decode()
    assert not AuditEntry.objects.filter(action="export").exists()


@pytest.mark.parametrize("name", ["audit", "report", "bulk"])
def test_format_csv_is_the_csv_download(as_lead, downloads, name):
    response = download(as_lead, downloads, name, format="csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert body(response) == body(download(as_lead, downloads, name))


def xlsx_rows(response) -> list[list]:
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    sheet = openpyxl.load_workbook(io.BytesIO(body(response))).worksheets[0]
    return [list(row) for row in sheet.iter_rows()]


def test_the_bulk_results_workbook_has_a_row_per_account(as_lead, finished_job):
    response = as_lead.get(reverse("bulk:results_csv", args=[finished_job.pk]), {"format": "xlsx"})
    assert response["Content-Disposition"] == (
        f'attachment; filename="bulk-{finished_job.pk}-results.xlsx"'
    )
    rows = xlsx_rows(response)
    assert [cell.value for cell in rows[0]] == [
        "Account",
        "Outcome",
        "Error code",
        "Error message",
        "C2C mute seen",
        "Group mute seen",
    ]
    assert [[cell.value for cell in row] for row in rows[1:]] == [
        ["bob", "OK", None, None, "7 d 2 h", None],
        ["=cmd", "OK", None, None, "7 d 2 h", None],
        ["carol", "OK", None, None, "7 d 2 h", None],
    ]
    assert rows[2][0].data_type == "s"


def test_an_unfinished_job_has_no_workbook_yet(as_lead, lead):
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice"])
    response = as_lead.get(reverse("bulk:results_csv", args=[job.pk]), {"format": "xlsx"})
    assert response.status_code == 409


def test_the_report_workbook_has_date_cells_in_the_zone_and_states_in_words(as_lead, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    observed = datetime(2026, 12, 5, 16, 30, tzinfo=UTC)
    seen(
        "=alice",
        c2c=PERMANENT,
        group=86400 * 3650,
        observed_at=observed,
        changed_at=observed - timedelta(minutes=1),
        operator="lead",
        reason="+1 spam",
    )
    with timezone.override("Asia/Shanghai"):
        response = as_lead.get(reverse("reports:mutes_csv"), {"format": "xlsx", "operator": "lead"})
    rows = xlsx_rows(response)
    assert [cell.value for cell in rows[0]] == [
        "Account",
        "C2C mute",
        "C2C mute ends (Asia/Shanghai)",
        "Group mute",
        "Group mute ends (Asia/Shanghai)",
        "Last change (Asia/Shanghai)",
        "Last changed by",
        "Last reason",
        "Seen at (Asia/Shanghai)",
        "Rule",
    ]
    row = rows[1]
    assert [cell.value for cell in row[:2]] == ["=alice", "permanent"]
    assert row[2].value is None
    assert row[3].value == "muted"
    assert row[4].is_date and row[4].value == datetime(2036, 12, 3, 0, 30)
    assert row[5].value == datetime(2026, 12, 6, 0, 29)
    assert (row[7].value, row[7].data_type) == ("+1 spam", "s")
    assert row[8].value == datetime(2026, 12, 6, 0, 30)
    entry = AuditEntry.objects.get(action="export")
    assert entry.details == {
        "report": "mutes",
        "filters": {"operator": ["lead"]},
        "format": "xlsx",
        "rows": 1,
    }


def test_the_report_workbook_applies_the_filters(as_lead):
    seen("kept", c2c=3600, operator="lead", changed_at=timezone.now())
    seen("other", c2c=3600, operator="mod", changed_at=timezone.now())
    response = as_lead.get(reverse("reports:mutes_csv"), {"format": "xlsx", "operator": "lead"})
    assert [row[0].value for row in xlsx_rows(response)[1:]] == ["kept"]


def test_each_csv_link_has_an_xlsx_link_beside_it_with_the_same_filters(as_lead, finished_job):
    audit_row(account="alice")
    audit = as_lead.get(reverse("audit:list"), {"account": "alice"}).content.decode()
    link = re.search(r'href="([^"]+)" data-export-xlsx>Download .xlsx<', audit).group(1)
    assert link.replace("&amp;", "&") == f"{reverse('audit:export')}?account=alice&format=xlsx"
    report = as_lead.get(reverse("reports:mutes"), {"operator": "lead"}).content.decode()
    link = re.search(r'href="([^"]+)" data-export-xlsx download>Download .xlsx<', report).group(1)
    assert link.replace("&amp;", "&") == f"{reverse('reports:mutes_csv')}?operator=lead&format=xlsx"
    job = as_lead.get(reverse("bulk:job", args=[finished_job.pk])).content.decode()
    link = re.search(r'href="([^"]+)" data-results-xlsx>Download .xlsx<', job).group(1)
    assert link == f"{reverse('bulk:results_csv', args=[finished_job.pk])}?format=xlsx"
