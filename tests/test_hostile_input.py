"""Hostile input on every page: never a 5xx, never a download broken off, nothing raw audited.

Every URL pattern of the project is read from the URLconf and must have an entry in PAGES naming
the query and form parameters its view reads (a new view fails test_every_url_is_swept until it
is added). Each parameter, and each path parameter, gets every class of hostile value in HOSTILE
(the calendar's edges, NUL, 5,000 digits, 2**63 and 2**64, negative numbers, unicode, empty,
repeated, very long), by GET and by POST, signed out and signed in as each role, with DEBUG off
as in production: a fault is seen as the 500 a visitor would get, not as an exception.
"""

import csv
import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from urllib.parse import quote, urlencode

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.html import escape

from muteadmin.approvals.services import mute_request_file
from muteadmin.audit.models import AuditEntry
from muteadmin.bulk.services import bulk_job_cancel
from muteadmin.reminders.services import reminder_for_change
from muteadmin.robots.services import DestinationSettings, destination_create
from muteadmin.rules.services import RuleText, rule_create
from muteadmin.scheduled.services import scheduled_create
from muteadmin.team.services import team_link_issue
from muteadmin.tencent.accounts import InvalidAccount, validate_account
from tests.api_support import token_for
from tests.conftest import audit_row, bulk_job, user_in

pytestmark = pytest.mark.django_db

# Signed out, signed in with no role, and each role.
ROLES = (None, "", "Moderator", "Lead", "Auditor")

DIGITS = "9" * 5000
LONG = "long-" + "ä" * 4_100
EDGE_MOMENTS = (
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00",
    "9999-12-31T23:59:59",
    "0001-01-01 00:00:00",
    "9999-12-31T23:59:59.999999",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "9999-12-31T23:59:59Z",
)
# Each class of hostile value, a few values of each; a list is a parameter sent repeatedly.
HOSTILE: dict[str, tuple] = {
    "calendar edge": ("0001-01-01", "9999-12-31T23:59:59"),
    "NUL": ("nul\x00nul",),
    "5,000 digits": (DIGITS,),
    "2**63": (str(2**63),),
    "2**64": (str(2**64),),
    "negative": ("-1",),
    "unicode": ("阿里\u202eevil\u200f🙂",),
    "empty": ("",),
    # The last of a repeated parameter is the one read: a NUL before it must go unrecorded.
    "repeated": (["1", "2"], ["\x00", "1"]),
    "very long": (LONG,),
}
# Parameters that read a date or a moment get every edge of the calendar.
MOMENT_PARAMETERS = frozenset({"since", "until", "seen_at", "run_at", "starts_at"})
# Values that may never reach an audit row from a request that refused them.
DISTINCTIVE = ("\x00", DIGITS, LONG, str(2**63), str(2**64), "阿里", "🙂")
# A path parameter of each converter gets these instead of a real object's key.
HOSTILE_PATH = {
    "int": ("0", str(2**63), str(2**64), DIGITS),
    "text": (
        "nul\x00nul",
        "阿里\u202eevil\u200f🙂",
        DIGITS,
        str(2**63),
        "-1",
        LONG,
        " ",
        "a/b/../c",
        "0001-01-01",
    ),
}
SENTENCE = re.compile(r"[A-Z][^\n.?!]*\s[^\n.?!]*[.?!]")


@dataclass(frozen=True)
class Page:
    """What one URL's view reads: query parameters, form fields, and valid values for the rest.

    `path` names an object for each path parameter (see `objects`). Every page also reads
    ?app=, through the layout's context processor.
    """

    get: tuple[str, ...] = ()
    post: tuple[str, ...] = ()
    valid_get: dict[str, str] = field(default_factory=dict)
    valid_post: dict[str, str] = field(default_factory=dict)
    path: dict[str, str] = field(default_factory=dict)
    uploads: tuple[str, ...] = ()
    # Its POST signs the user out (signed back in after each request).
    signs_out: bool = False
    # Only each class's first value, every parameter at once: Django's own pages (the admin).
    combined: bool = False
    # The sentence the page shows for any form error, where it shows one for all (sign-in
    # never says which of username and password was wrong).
    error_sentence: str = ""
    # Form fields the page records on purpose even when it refuses the request: a failed
    # sign-in is audited with the username tried (control characters removed, never a NUL).
    records: tuple[str, ...] = ()
    # An API endpoint: each role sends a token of that role with every scope (never a session),
    # and a POST's parameters go as a JSON object.
    bearer: bool = False


MUTE_FIELDS = (
    "c2c_seconds",
    "c2c_custom",
    "c2c_custom_unit",
    "group_seconds",
    "group_custom",
    "group_custom_unit",
    "rule",
    "reason",
)
NOTICE_FIELDS = ("notify", "notice_language", "notify_offered")
API_MUTE_FIELDS = ("c2c_seconds", "group_seconds", "rule", "reason", "notify", "notice_language")
AUDIT_FILTERS = ("account", "operator", "action", "outcome", "since", "until", "q", "job", "rule")
REPORT_FILTERS = ("operator", "since", "until", "include_expired", "rule")
# Every spreadsheet download reads these: CSV or xlsx, and a BOM before a CSV.
DOWNLOAD_CHOICES = ("format", "bom")
RULE_FIELDS = (
    "title_en",
    "title_zh_hans",
    "description_en",
    "description_zh_hans",
    "c2c_ladder",
    "group_ladder",
    "window_days",
    "notify_by_default",
)
VALID_RULE = {
    "title_en": "Spam",
    "title_zh_hans": "垃圾信息",
    "c2c_ladder": "1h, 1d",
    "window_days": "90",
}

ALLAUTH_PREFIXES = ("accounts/", "admin/login/")
DESTINATION_FIELDS = ("name", "kind", "url", "secret", "remove_secret", "language", "events")
VALID_DESTINATION = {
    "name": "ops hook",
    "kind": "webhook",
    "url": "https://hooks.example.com/muteadmin",
    "secret": "whsec-0123456789",
    "language": "zh-hans",
    "events": "permanent_mute",
}

# Every URL name of the project (an admin URL by its namespace alone) and what its view reads.
PAGES: dict[str, Page] = {
    "login": Page(
        get=("next",),
        post=("username", "password", "next"),
        records=("username",),
    ),
    "logout": Page(post=("next",), signs_out=True),
    "healthz": Page(),
    "metrics": Page(),
    # Django's admin: staff only, which no role is; swept for every pattern all the same.
    "admin": Page(
        get=("q", "p", "o", "e", "next", "_changelist_filters", "_to_field", "_popup"),
        post=("username", "password", "next"),
        path={
            "content_type_id": "content_type",
            "object_id": "user",
            "id": "user",
            "app_label": "app_label",
            "url": "nowhere",
        },
        combined=True,
    ),
    # allauth's own pages under /accounts/, and the admin's sign-in address sending to /login/:
    # every class of hostile value in every field those pages read, all at once, as for the admin.
    # Single sign-on's pages are among them (not found unless configured; tests/test_signin_sso.py
    # sweeps them with a provider configured).
    "allauth": Page(
        get=(
            "next",
            "action",
            "process",
            "scope",
            "auth_params",
            "code",
            "state",
            "error",
            "error_description",
        ),
        post=(
            "login",
            "username",
            "password",
            "code",
            "oldpassword",
            "password1",
            "password2",
            "email",
            "action",
            "next",
        ),
        path={"key": "nowhere", "uidb36": "nowhere", "link": "nowhere", "provider_id": "sso"},
        combined=True,
    ),
    "audit:list": Page(
        get=(*AUDIT_FILTERS, "before", "after"), valid_get={"since": "2026-01-01", "q": "spam"}
    ),
    "audit:export": Page(
        get=(*AUDIT_FILTERS, *DOWNLOAD_CHOICES), valid_get={"since": "2026-01-01", "q": "spam"}
    ),
    "audit:detail": Page(path={"pk": "audit_row"}),
    "reports:mutes": Page(
        get=(*REPORT_FILTERS, "after", "before"), valid_get={"until": "2030-01-01"}
    ),
    "reports:mutes_csv": Page(
        get=(*REPORT_FILTERS, *DOWNLOAD_CHOICES), valid_get={"until": "2030-01-01"}
    ),
    "bulk:form": Page(
        get=("rule",),
        valid_get={"rule": "{rule}"},
        post=("accounts", "operation", *MUTE_FIELDS, *NOTICE_FIELDS, "starts_at", "confirm"),
        valid_post={
            "accounts": "alice\nbob",
            "operation": "set",
            "c2c_seconds": "600",
            "rule": "{rule}",
            "reason": "spam",
        },
        uploads=("file",),
    ),
    "bulk:job": Page(get=("after", "outcome"), path={"job_id": "job"}),
    "bulk:follow_up": Page(
        post=("which",), valid_post={"which": "not_sent"}, path={"job_id": "job"}
    ),
    "bulk:status": Page(path={"job_id": "job"}),
    "bulk:cancel": Page(path={"job_id": "job"}),
    "bulk:results_csv": Page(get=DOWNLOAD_CHOICES, path={"job_id": "job"}),
    "policies:limits": Page(
        post=(
            "group",
            *(
                f"g{{group}}-{kind}_{name}"
                for kind in ("c2c", "group")
                for name in ("mode", "amount", "unit")
            ),
        ),
        valid_post={
            "group": "{group}",
            "g{group}-c2c_mode": "length",
            "g{group}-c2c_amount": "2",
            "g{group}-c2c_unit": "days",
            "g{group}-group_mode": "none",
        },
    ),
    "rules:list": Page(),
    "rules:create": Page(post=("code", *RULE_FIELDS), valid_post={"code": "scam", **VALID_RULE}),
    "rules:edit": Page(post=RULE_FIELDS, valid_post=VALID_RULE, path={"code": "rule"}),
    "rules:retire": Page(post=("do",), valid_post={"do": "retire"}, path={"code": "rule"}),
    "approvals:list": Page(),
    "scheduled:list": Page(
        get=("account",),
        post=("account", "run_at", *MUTE_FIELDS),
        valid_get={"account": "alice"},
        valid_post={
            "account": "alice",
            "run_at": "{soon}",
            "c2c_seconds": "600",
            "rule": "{rule}",
            "reason": "event",
        },
    ),
    "scheduled:cancel": Page(path={"scheduled_id": "scheduled"}),
    "reminders:done": Page(path={"reminder_id": "reminder"}),
    "approvals:approve": Page(path={"request_id": "mute_request"}),
    "approvals:reject": Page(
        post=("r{mute_request}-reason",),
        valid_post={"r{mute_request}-reason": "not needed"},
        path={"request_id": "mute_request"},
    ),
    "team:list": Page(
        post=("username", "role"), valid_post={"username": "newcomer", "role": "Moderator"}
    ),
    "team:role": Page(post=("role",), valid_post={"role": "Auditor"}, path={"pk": "member"}),
    "team:deactivate": Page(path={"pk": "member"}),
    "team:reactivate": Page(path={"pk": "member"}),
    "team:two_factor_reset": Page(path={"pk": "member"}),
    "team:link": Page(path={"pk": "member"}),
    # Reached through a set-password link, which keeps its token in the session.
    "team:welcome_form": Page(post=("new_password1", "new_password2")),
    "team:welcome": Page(path={"token": "token"}),
    # The notice page's Send button posts the signed notice it showed.
    "mutes:notice": Page(post=("notice",), path={"account": "account"}),
    # The account page's script posts the change form to redraw the notice's preview.
    "mutes:notice_preview": Page(
        post=(*MUTE_FIELDS, *NOTICE_FIELDS),
        valid_post={"c2c_seconds": "600", "rule": "{rule}", "reason": "spam", "notify": "on"},
        path={"account": "account"},
    ),
    "notices:templates": Page(
        post=("template", "rule_code", "language", "time_zone", "text"),
        valid_post={"rule_code": "spam", "language": "en", "time_zone": "UTC", "text": "Muted."},
    ),
    "reconcile:watchlist": Page(post=("accounts",), valid_post={"accounts": "alice\nbob"}),
    "reconcile:watchlist_remove": Page(post=("account",), valid_post={"account": "alice"}),
    "sandbox_pages:messages": Page(),
    "preferences:edit": Page(
        post=("language", "time_zone", "csv_bom"),
        valid_post={"language": "en", "time_zone": "UTC"},
    ),
    "preferences:language": Page(post=("language", "next"), valid_post={"language": "en"}),
    "preferences:time_zone": Page(post=("time_zone", "next"), valid_post={"time_zone": "UTC"}),
    # Chat-robot notification destinations (Leads only); a valid post makes a signed webhook.
    "robots:list": Page(post=DESTINATION_FIELDS, valid_post=VALID_DESTINATION),
    "robots:detail": Page(
        post=DESTINATION_FIELDS, valid_post=VALID_DESTINATION, path={"pk": "destination"}
    ),
    "robots:test": Page(path={"pk": "destination"}),
    "robots:resume": Page(path={"pk": "destination"}),
    "robots:delete": Page(path={"pk": "destination"}),
    "mutes:lookup": Page(get=("account",)),
    "mutes:find": Page(get=("account",)),
    "mutes:cards": Page(path={"account": "account"}),
    "mutes:notes": Page(
        post=("note",), valid_post={"note": "Warned once."}, path={"account": "account"}
    ),
    "api:mute": Page(
        get=(),
        post=(*API_MUTE_FIELDS, "expected"),
        valid_post={"c2c_seconds": "600", "reason": "spam", "rule": "{rule}"},
        path={"account": "account"},
        bearer=True,
    ),
    "api:bulk": Page(
        post=("operation", "accounts", *API_MUTE_FIELDS),
        valid_post={"operation": "lookup", "accounts": "alice"},
        bearer=True,
    ),
    "api:bulk_job": Page(path={"job_id": "job"}, bearer=True),
    "api:bulk_results": Page(get=("cursor", "outcome"), path={"job_id": "job"}, bearer=True),
    "api:audit": Page(
        get=(*AUDIT_FILTERS, "before", "after"), valid_get={"q": "spam"}, bearer=True
    ),
    "api:report_mutes": Page(
        get=(*REPORT_FILTERS, "after", "before"), valid_get={"until": "2030-01-01"}, bearer=True
    ),
    # Any other address under /api/v1/.
    "api:not_found": Page(path={"rest": "nowhere"}, bearer=True),
    "api:schema": Page(get=("format", "lang"), bearer=True),
    # The docs page is the site's (signed in), drawn from the schema; it reads no parameter.
    "api:docs": Page(),
    "api_tokens:list": Page(
        post=("name", "scopes", "role", "days"),
        valid_post={"name": "bot", "scopes": "read", "role": "Moderator", "days": "30"},
    ),
    "api_tokens:revoke": Page(path={"pk": "api_token"}),
    "mutes:account": Page(
        # The seen_* fields and confirm are hidden inputs the page writes from what it showed.
        get=("rule",),
        post=(
            *MUTE_FIELDS,
            *NOTICE_FIELDS,
            "review",
            "seen_c2c",
            "seen_group",
            "seen_at",
            "confirm",
        ),
        valid_get={"rule": "{rule}"},
        valid_post={
            "c2c_seconds": "600",
            "rule": "{rule}",
            "reason": "spam",
            "seen_c2c": "0",
            "seen_group": "0",
            "seen_at": "2026-01-01T00:00:00Z",
        },
        path={"account": "account"},
    ),
}


@dataclass(frozen=True)
class Pattern:
    """One URL pattern: its name (namespaced) and its full route, path parameters in place."""

    name: str
    route: str

    @property
    def page_name(self) -> str:
        if self.name in PAGES:
            return self.name
        # allauth's pages (two-factor, password change, its redirects to /login/) by their prefix.
        if self.route.startswith(ALLAUTH_PREFIXES):
            return "allauth"
        return self.name.split(":", 1)[0]

    @property
    def page(self) -> Page:
        return PAGES[self.page_name]


def url_patterns() -> list[Pattern]:
    """Every URL pattern the project serves, read from its URLconf."""

    def walk(patterns: list, prefix: str, namespace: str | None) -> Iterator[Pattern]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = ":".join(filter(None, (namespace, pattern.namespace))) or None
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            else:
                assert isinstance(pattern, URLPattern)
                # An unnamed pattern goes by its route.
                name = pattern.name or str(pattern.pattern)
                yield Pattern(
                    name=f"{namespace}:{name}" if namespace else name,
                    route=prefix + str(pattern.pattern),
                )

    return list(walk(get_resolver().url_patterns, "", None))


_PATH_PARAMETER = re.compile(
    r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>|\(\?P<(?P<group>\w+)>[^)]*\)"
)


def path_parameters(route: str) -> dict[str, str]:
    """The path parameters of a route, each with its kind ("int" or "text")."""
    found = {}
    for match in _PATH_PARAMETER.finditer(route):
        name = match["name"] or match["group"]
        found[name] = "int" if match["converter"] == "int" else "text"
    return found


def url_for(route: str, values: dict[str, str]) -> str:
    """The route with each path parameter replaced by its value, percent-encoded."""

    def value(match: re.Match) -> str:
        return quote(values[match["name"] or match["group"]], safe="/")

    path = _PATH_PARAMETER.sub(value, route).replace("^", "").replace("$", "")
    return "/" + path


@pytest.fixture
def objects(db) -> dict[str, str]:
    """Real objects for path parameters (an audit row, a finished bulk job, an account, a request
    for approval) and for parameter names that hold a key ("{group}" in "g{group}-c2c_mode")."""
    lead = user_in("owner", "Lead")
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice", "bob"])
    bulk_job_cancel(job=job)
    request = mute_request_file(
        requester=user_in("requester", "Moderator"), account="bob", reason="spam", c2c_seconds=60
    )
    member = User.objects.create_user("member")
    token = team_link_issue(operator=lead, user=member)
    rule = rule_create(
        operator=lead, code="spam", text=RuleText(title_en="Spam", title_zh_hans="垃圾信息")
    )
    soon = timezone.now() + timedelta(minutes=10)
    scheduled = scheduled_create(
        account="carol", operator=lead, run_at=soon, reason="event", c2c_seconds=600
    )
    reminder = reminder_for_change(
        account="carol", app="default", operator=lead, remind="me", lengths=(600, None)
    )
    api_token, _ = token_for("Lead", "read", name="swept")
    destination = destination_create(
        operator=lead,
        settings=DestinationSettings(
            name="team chat",
            kind="webhook",
            language="en",
            events=("bulk_finished",),
            url="https://hooks.example.com/team",
            secret="whsec-team-0123456789",
        ),
    )
    return {
        "api_token": str(api_token.pk),
        "reminder": str(reminder.pk),
        "scheduled": str(scheduled.pk),
        "soon": timezone.localtime(soon).strftime("%Y-%m-%dT%H:%M"),
        "destination": str(destination.pk),
        "rule": rule.code,
        "member": str(member.pk),
        "token": token,
        "mute_request": str(request.pk),
        "group": str(Group.objects.get(name="Moderator").pk),
        "audit_row": str(audit_row(reason="spam").pk),
        "job": str(job.pk),
        "account": "alice",
        "user": str(lead.pk),
        "content_type": "1",
        "app_label": "audit",
        "nowhere": "nowhere/",
        "sso": "sso",
    }


@dataclass(frozen=True)
class Probe:
    """One request of the sweep, and the hostile value it carries."""

    method: str
    url: str
    pairs: list[tuple[str, str]]
    uploads: dict[str, list[str]]
    what: str
    value: str | list | None


def _sent(value: str | list) -> list[str]:
    return value if isinstance(value, list) else [value]


def _values(parameter: str, *, combined: bool) -> Iterator[tuple[str, str | list]]:
    for kind, values in HOSTILE.items():
        if kind == "calendar edge" and parameter in MOMENT_PARAMETERS:
            values = EDGE_MOMENTS
        for value in values[:1] if combined else values:
            yield kind, value


def probes(pattern: Pattern, objects: dict[str, str], *, reaches: bool) -> Iterator[Probe]:
    """Every request the sweep sends to one URL pattern, for a role its view `reaches` or not.

    A role the view turns away (to sign in, or 403) before reading anything gets each class of
    hostile value once, in every parameter and path parameter at once, by GET and POST in turn.
    """
    page = named(pattern.page, objects)
    kinds = path_parameters(pattern.route)
    real = {name: objects[page.path[name]] for name in kinds}
    url = url_for(pattern.route, real)
    get = (*page.get, "app")
    everything = (*get, *page.post, *page.uploads)

    def with_value(pairs: dict, parameter: str, value: str | list) -> list:
        kept = [(name, sent) for name, sent in pairs.items() if name != parameter]
        return kept + [(parameter, sent) for sent in _sent(value)]

    if not reaches or page.combined:
        for index, (kind, value) in enumerate(_values("", combined=True)):
            pairs = [(name, sent) for name in everything for sent in _sent(value)]
            path = {name: _path_value(kinds[name], value, real[name]) for name in kinds}
            method = ("GET", "POST")[index % 2]
            what = f"every parameter ({kind})"
            yield Probe(method, url_for(pattern.route, path), pairs, {}, what, value)
        return
    for name, kind in kinds.items():
        for value in HOSTILE_PATH[kind]:
            hostile = url_for(pattern.route, real | {name: value})
            for method in ("GET", "POST"):
                yield Probe(
                    method, hostile, list(page.valid_get.items()), {}, f"path {name}", value
                )
    for parameter in get:
        for kind, value in _values(parameter, combined=False):
            pairs = with_value(page.valid_get, parameter, value)
            yield Probe("GET", url, pairs, {}, f"?{parameter} ({kind})", value)
    for parameter in page.post:
        for kind, value in _values(parameter, combined=False):
            pairs = with_value(page.valid_post, parameter, value)
            yield Probe("POST", url, pairs, {}, f"form {parameter} ({kind})", value)
    for upload in page.uploads:
        for kind, value in _values(upload, combined=False):
            yield Probe("POST", url, [], {upload: _sent(value)}, f"file {upload} ({kind})", value)
    # Every parameter at once, by GET and POST in turn: query parameters posted too, and form
    # fields in the query string.
    for index, (kind, value) in enumerate(_values("", combined=True)):
        pairs = [(name, sent) for name in everything for sent in _sent(value)]
        method = ("POST", "GET")[index % 2]
        yield Probe(method, url, pairs, {}, f"every parameter by {method} ({kind})", value)


def named(page: Page, objects: dict[str, str]) -> Page:
    """The page with the keys of real objects put into its parameters' names and values."""

    def each(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(name.format(**objects) for name in names)

    def pairs(values: dict[str, str]) -> dict[str, str]:
        return {name.format(**objects): value.format(**objects) for name, value in values.items()}

    return replace(
        page,
        get=each(page.get),
        post=each(page.post),
        valid_get=pairs(page.valid_get),
        valid_post=pairs(page.valid_post),
    )


def _path_value(kind: str, value: str | list, real: str) -> str:
    """`value` where a path parameter of `kind` can take it (the URL must still resolve)."""
    if not isinstance(value, str) or not value or (kind == "int" and not value.isdigit()):
        return real
    return value


def send(client: Client, probe: Probe, *, bearer: bool = False):
    if probe.method == "GET":
        query = urlencode(probe.pairs)
        return client.get(f"{probe.url}?{query}" if query else probe.url)
    data: dict[str, list] = {}
    for name, value in probe.pairs:
        data.setdefault(name, []).append(value)
    if bearer:
        # A JSON object: a parameter sent once is a string, one sent repeatedly a list.
        body = {name: values[0] if len(values) == 1 else values for name, values in data.items()}
        return client.post(probe.url, json.dumps(body), content_type="application/json")
    for name, contents in probe.uploads.items():
        data[name] = [
            SimpleUploadedFile(f"accounts{index}.csv", content.encode())
            for index, content in enumerate(contents)
        ]
    return client.post(probe.url, data)


def body(response) -> bytes:
    """The whole response; a stream is read to its end (an exception in it fails the test)."""
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def form_errors(response) -> list[str]:
    context = response.context
    if context is None:
        return []
    try:
        form = context["form"]
    except KeyError:
        return []
    errors = getattr(form, "errors", None) or {}
    return [message for messages in errors.values() for message in messages]


def row_text(entry: AuditEntry) -> str:
    """Everything typed that an audit row keeps, as one string."""
    parts = [entry.account, entry.reason, entry.operator_username, entry.error_info]
    return "\n".join(parts) + json.dumps(entry.details, ensure_ascii=False)


def last_audit_id() -> int:
    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


def check(
    page: Page, probe: Probe, response, content: bytes, written: list[AuditEntry]
) -> list[str]:
    """What is wrong with one answer, in words."""
    problems = []
    status = response.status_code
    if status >= 500:
        problems.append(f"answered {status}")
    errors = form_errors(response) if status in (200, 400) else []
    refused = status >= 400 or bool(errors)
    if status == 400 and not SENTENCE.search(content.decode(errors="replace")):
        problems.append("answered 400 without a sentence saying what to do")
    shown = content.decode(errors="replace")
    for message in errors:
        if not SENTENCE.search(str(message)):
            problems.append(f"form error is not a sentence: {message!r}")
        if escape(page.error_sentence or message) not in shown:
            problems.append(f"form error is not shown: {message!r}")
    for entry in written:
        text = row_text(entry)
        if "\x00" in text:
            problems.append(f"audit row {entry.pk} holds a NUL")
        if entry.action == AuditEntry.Action.DENIED:
            # A refusal's row names the account asked about, once it is a valid UserID; the
            # rest of what it keeps must still hold nothing refused.
            try:
                validate_account(entry.account)
            except InvalidAccount:
                if entry.account:
                    problems.append(f"audit row {entry.pk} holds an invalid account")
            text = text.removeprefix(entry.account)
        recorded = any(
            name in page.records and value in _sent(probe.value or "")
            for name, value in probe.pairs
        )
        if (
            refused
            and not recorded
            and any(
                marker in text
                for marker in DISTINCTIVE
                if marker in "".join(_sent(probe.value or ""))
            )
        ):
            problems.append(f"audit row {entry.pk} holds the refused value")
        if entry.action == AuditEntry.Action.EXPORT and entry.outcome != AuditEntry.Outcome.OK:
            problems.append(f"export ended {entry.outcome}: {entry.error_info}")
    return problems


def sign_in(client: Client, role: str | None) -> None:
    if role is not None:
        client.force_login(ROLE_USERS[role])


ROLE_USERS: dict[str, object] = {}
# A token of each role with every scope, for the API's endpoints.
API_TOKENS: dict[str, str] = {}


def reached(client: Client, pattern: Pattern, objects: dict[str, str]) -> tuple[bool, set[str]]:
    """Whether the pattern's view reads anything for this client, rather than turning it away,
    and the fields of the form it shows that PAGES does not list."""
    page = pattern.page
    real = {name: objects[page.path[name]] for name in path_parameters(pattern.route)}
    response = client.get(url_for(pattern.route, real), page.valid_get)
    location = response.get("Location", "")
    turned_away = response.status_code in (401, 403) or (
        response.status_code == 302 and "login/" in location
    )
    try:
        form = response.context["form"] if response.context is not None else None
    except KeyError:
        form = None
    # Named without a form's prefix (a page of several forms shows one per object).
    listed = {name.split("-", 1)[-1] for name in (*page.get, *page.post, *page.uploads, "app")}
    unlisted = set(getattr(form, "fields", ())) - listed
    return not turned_away, unlisted


def sweep(pattern: Pattern, objects: dict[str, str]) -> list[str]:
    """Every probe of one URL pattern as each role: the problems found."""
    problems = []
    for role in ROLES:
        client = Client(raise_request_exception=False)
        if pattern.page.bearer:
            if role in API_TOKENS:
                client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {API_TOKENS[role]}"
        else:
            sign_in(client, role)
        reaches, unlisted = reached(client, pattern, objects)
        if unlisted:
            problems.append(f"{pattern.name}: add the form's fields {sorted(unlisted)} to PAGES")
        for probe in probes(pattern, objects, reaches=reaches):
            before = last_audit_id()
            response = send(client, probe, bearer=pattern.page.bearer)
            try:
                content = body(response)
            except Exception as exc:
                content = b""
                problems.append(
                    f"{probe.method} {pattern.name} {probe.what} as {role!r}: "
                    f"stream broke off ({exc!r})"
                )
            written = list(AuditEntry.objects.filter(id__gt=before).order_by("id"))
            for problem in check(pattern.page, probe, response, content, written):
                problems.append(
                    f"{probe.method} {pattern.name} {probe.what} = {str(probe.value)[:40]!r} "
                    f"as {role!r}: {problem}"
                )
            if pattern.page.signs_out and probe.method == "POST":
                sign_in(client, role)
    return problems


@pytest.fixture
def roles(db) -> None:
    ROLE_USERS.clear()
    API_TOKENS.clear()
    for role in ROLES:
        if role is not None:
            ROLE_USERS[role] = user_in(f"user-{role or 'none'}", *([role] if role else []))
        if role:
            API_TOKENS[role] = token_for(role, name=f"sweep-{role.lower()}")[1]


def test_every_url_is_swept():
    """A new URL pattern needs an entry in PAGES saying what its view reads; so do its objects."""
    missing = sorted({p.name for p in url_patterns() if p.page_name not in PAGES})
    assert not missing, f"Add these URL names to PAGES in {__name__}: {missing}"
    names = {p.page_name for p in url_patterns()}
    assert not set(PAGES) - names, f"PAGES names URLs that no longer exist: {set(PAGES) - names}"
    for pattern in url_patterns():
        unnamed = set(path_parameters(pattern.route)) - set(pattern.page.path)
        assert not unnamed, f"{pattern.name}: say which object fills {unnamed}"


@pytest.mark.parametrize("name", sorted({p.page_name for p in url_patterns()}))
def test_hostile_input_never_breaks_a_page(name, objects, roles, caplog):
    caplog.set_level(logging.WARNING)
    patterns = [p for p in url_patterns() if p.page_name == name]
    problems = [problem for pattern in patterns for problem in sweep(pattern, objects)]
    # django.security logs the requests Django itself refuses as suspicious (a redirect to a
    # sign-in URL longer than it allows): answered 400 with the styled page, checked above.
    logged = [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.levelno >= logging.ERROR and not record.name.startswith("django.security")
    ]
    assert not problems, "\n".join(problems[:30]) + f"\n({len(problems)} problems)"
    assert not logged, "\n".join(logged[:10])
    assert not [entry.pk for entry in AuditEntry.objects.all() if "\x00" in row_text(entry)]


def database_down(execute, sql, params, many, context):
    """Every query fails, as when the database server has gone away."""
    raise OperationalError("could not connect to server: Connection refused")


def test_a_database_outage_on_any_page_gives_the_styled_500_page(objects, roles):
    """Whatever page is open when the database goes away, the visitor gets the styled page."""
    problems = []
    for role in ("Lead", None):
        client = Client(raise_request_exception=False)
        sign_in(client, role)
        for pattern in url_patterns():
            real = {
                name: objects[pattern.page.path[name]] for name in path_parameters(pattern.route)
            }
            url = url_for(pattern.route, real)
            with connection.execute_wrapper(database_down):
                responses = [
                    client.get(url),
                    client.post(url, named(pattern.page, objects).valid_post),
                ]
            for response in responses:
                if response.status_code == 500 and b'data-error-page="500"' not in response.content:
                    problems.append(f"{pattern.name} as {role!r}: the bare 500 page")
    assert not problems, "\n".join(problems)


# What the sweep first found, each pinned down with what a moderator sees.


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.streaming
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("since=0001-01-01", True),
        ("since=0001-01-01T00:00", True),
        ("until=9999-12-31", True),
        ("until=9999-12-31T23:59:59", True),
        ("since=0001-01-01&until=9999-12-31", True),
        ("since=9999-12-31", False),
        ("since=9999-12-31T23:59:59", False),
        ("until=0001-01-01", False),
        ("until=0001-01-01T00:00", False),
        ("since=9999-12-31&until=9999-12-31", False),
    ],
)
def test_the_calendars_edges_filter_as_far_as_they_reach(as_lead, query, shown, settings):
    settings.TIME_ZONE = "Pacific/Kiritimati"  # UTC+14: 0001-01-01 there is before year 1 in UTC
    row = audit_row(account="alice", reason="spam")
    listed = as_lead.get(f"{reverse('audit:list')}?{query}")
    assert listed.status_code == 200
    assert (f'href="{reverse("audit:detail", args=[row.pk])}"' in listed.content.decode()) is shown
    exported = csv_rows(as_lead.get(f"{reverse('audit:export')}?{query}"))
    assert (str(row.pk) in [line[0] for line in exported[1:]]) is shown
    assert as_lead.get(f"{reverse('reports:mutes')}?{query}").status_code == 200
    assert csv_rows(as_lead.get(f"{reverse('reports:mutes_csv')}?{query}"))[0][0] == "account"


def test_a_job_number_beyond_64_bits_is_refused_before_the_download_starts(as_lead):
    response = as_lead.get(f"{reverse('audit:export')}?job={2**63}")
    assert response.status_code == 400
    assert not response.streaming
    assert "No bulk job has a number that large" in response.content.decode()
    assert not AuditEntry.objects.filter(action="export").exists()


def test_include_expired_is_yes_or_no_and_anything_else_is_refused_unrecorded(as_lead):
    response = as_lead.get(f"{reverse('reports:mutes_csv')}?include_expired=%00")
    assert response.status_code == 400
    assert "set include_expired to 1" in response.content.decode()
    assert not AuditEntry.objects.filter(action="export").exists()
    page = as_lead.get(f"{reverse('reports:mutes')}?include_expired=maybe")
    assert page.status_code == 400
    assert "set include_expired to 1" in page.content.decode()
    for typed in ("1", "on", "true", "0", "off", ""):
        assert csv_rows(as_lead.get(f"{reverse('reports:mutes_csv')}?include_expired={typed}"))


def test_an_export_records_only_the_filter_values_it_read(as_lead):
    query = "operator=%00&operator=lead&since=2026-01-01&include_expired=1&app=%00"
    csv_rows(as_lead.get(f"{reverse('reports:mutes_csv')}?{query}"))
    entry = AuditEntry.objects.get(action="export")
    assert entry.details["filters"] == {
        "operator": ["lead"],
        "since": ["2026-01-01"],
        "include_expired": ["1"],
    }


@pytest.mark.parametrize("field", ["c2c_seconds", "group_seconds"])
def test_thousands_of_digits_in_a_mute_length_are_a_form_error(as_lead, field):
    data = {field: DIGITS, "reason": "spam"}
    response = as_lead.post(reverse("mutes:account", args=["alice"]), data)
    assert response.status_code == 200
    assert "Enter a number of seconds from 0 to 4294967295." in response.content.decode()
    bulk = as_lead.post(reverse("bulk:form"), {**data, "accounts": "alice", "operation": "set"})
    assert bulk.status_code == 200
    assert "Enter a number of seconds from 0 to 4294967295." in bulk.content.decode()
    assert not AuditEntry.objects.filter(action="change").exists()


@pytest.mark.parametrize("field", ["c2c_custom", "group_custom"])
def test_thousands_of_digits_in_a_custom_length_are_a_form_error(as_lead, field):
    kind = field.removesuffix("_custom")
    data = {f"{kind}_seconds": "custom", field: DIGITS, "reason": "spam"}
    response = as_lead.post(reverse("mutes:account", args=["alice"]), data)
    assert response.status_code == 200
    assert "Enter a whole number." in response.content.decode()


def test_a_page_cursor_of_thousands_of_digits_is_past_every_row_as_a_shorter_one_is(as_lead):
    row = audit_row(account="alice")
    older = as_lead.get(f"{reverse('audit:list')}?before={DIGITS}")
    assert older.status_code == 200
    assert f'href="{reverse("audit:detail", args=[row.pk])}"' in older.content.decode()
    newer = as_lead.get(f"{reverse('audit:list')}?after={DIGITS}")
    assert newer.status_code == 200
    assert f'href="{reverse("audit:detail", args=[row.pk])}"' not in newer.content.decode()


def test_a_change_posted_for_an_id_that_is_no_userid_is_answered_as_its_page_is(as_lead):
    url = reverse("mutes:account", args=["nul\x00nul"])
    response = as_lead.post(url, {"c2c_seconds": "abc", "reason": "spam"})
    assert response.status_code == 404
    assert "An account ID may contain only letters" in response.content.decode()
    assert not AuditEntry.objects.exists()


def test_a_seen_moment_outside_utcs_calendar_is_a_damaged_page_not_a_fault(as_lead):
    data = {
        "c2c_seconds": "600",
        "reason": "spam",
        "seen_c2c": "0",
        "seen_group": "0",
        "seen_at": "0001-01-01T00:00:00+14:00",
    }
    response = as_lead.post(reverse("mutes:account", args=["alice"]), data)
    assert response.status_code == 200
    assert form_errors(response)
    assert not AuditEntry.objects.filter(action="change").exists()


def test_a_limits_post_naming_a_group_of_thousands_of_digits_says_it_no_longer_exists(as_lead):
    response = as_lead.post(reverse("policies:limits"), {"group": DIGITS}, follow=True)
    assert response.status_code == 200
    assert "That group no longer exists; reload the page and try again." in (
        response.content.decode()
    )


@pytest.mark.parametrize("name", ["audit:export", "reports:mutes_csv", "bulk:results_csv"])
@pytest.mark.parametrize(
    "query", ["format=xlsxx", "bom=2", "format=xlsx&bom=2", "format=&bom=", "format=xlsx&format=x"]
)
def test_an_odd_format_or_bom_never_breaks_a_download(as_lead, lead, name, query):
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice"])
    bulk_job_cancel(job=job, operator=lead)
    args = [job.pk] if name.startswith("bulk") else []
    response = as_lead.get(f"{reverse(name, args=args)}?{query}")
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert SENTENCE.search(content.decode())
    for entry in AuditEntry.objects.filter(action="export"):
        assert entry.outcome == "ok"
