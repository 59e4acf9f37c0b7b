"""A real OpenID Connect provider for the single sign-on tests, and a person's browser at it.

The provider is node's `oidc-provider` (tests/oidc/, pinned by its package-lock.json; `make
test` runs `npm ci` there), started once per session on a free port of 127.0.0.1. Our server
reaches it over HTTP as it would reach any provider: discovery, the token endpoint, userinfo.
"""

import json
import os
import selectors
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "muteadmin-tests"
CLIENT_SECRET = "test-client-secret-that-must-never-appear-in-output"
# Where the test client's requests appear to come from (Django's test server name).
OUR_ORIGIN = "http://testserver"
REDIRECT_URI = f"{OUR_ORIGIN}/accounts/oidc/sso/login/callback/"
STARTUP_SECONDS = 20


@dataclass
class LocalProvider:
    """The running provider: its issuer URL and the people it knows."""

    issuer: str
    users_file: Path

    def person(self, username: str, *, password: str, groups: list[str]) -> None:
        """Add or change a person at the provider (read afresh at each sign-in)."""
        people = json.loads(self.users_file.read_text())
        people[username] = {"password": password, "name": username.title(), "groups": groups}
        self.users_file.write_text(json.dumps(people))


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "The single sign-on tests need Node.js 20.19 or newer (`node` on PATH) to run a "
            "local OpenID Connect provider; install it, then run `make test`."
        )
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.fail(
            "tests/oidc/node_modules is missing: run `npm ci --prefix tests/oidc` "
            "(`make test` does it)."
        )
    return node


def _first_line(process: subprocess.Popen, log: Path) -> str:
    """The provider's first line of output, once it listens; fails with its log if it dies."""
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if selector.select(timeout=0.2):
            line = process.stdout.readline()
            if line:
                return line
        if process.poll() is not None:
            break
    process.kill()
    pytest.fail(f"The local OpenID Connect provider did not start:\n{log.read_text()}")


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory) -> Iterator[LocalProvider]:
    node = _node()
    home = tmp_path_factory.mktemp("oidc")
    users_file = home / "people.json"
    users_file.write_text("{}")
    log = home / "provider.log"
    environment = {
        **os.environ,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_REDIRECT_URIS": REDIRECT_URI,
        "OIDC_USERS_FILE": str(users_file),
    }
    with log.open("w") as errors:
        process = subprocess.Popen(  # noqa: S603  (our own script, by absolute path)
            [node, str(PROVIDER_DIR / "provider.js")],
            cwd=PROVIDER_DIR,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    try:
        issuer = json.loads(_first_line(process, log))["issuer"]
        yield LocalProvider(issuer=issuer, users_file=users_file)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class _Forms(HTMLParser):
    """The forms of a page: each one's action, method, and its inputs' names and values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self.forms.append({"attrs": found, "fields": {}})
        elif tag in ("input", "button") and self.forms and found.get("name"):
            self.forms[-1]["fields"][found["name"]] = found.get("value") or ""


def page_forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def provider_sign_in(start: str, *, username: str, password: str) -> str:
    """A person's browser at the provider: from the authorization URL our server sent it to,
    through the provider's sign-in and consent pages (filled in as a person would), to the
    address the provider sends it back to on our side, which is returned."""
    browser = requests.Session()
    response = browser.get(start, allow_redirects=False, timeout=10)
    for _ in range(20):
        if response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if target.startswith(OUR_ORIGIN):
                return target
            response = browser.get(target, allow_redirects=False, timeout=10)
            continue
        assert response.status_code == 200, response.text
        (form,) = page_forms(response.text)
        fields = form["fields"]
        if "username" in fields:
            fields.update(username=username, password=password)
        action = urljoin(response.url, form["attrs"]["action"])
        response = browser.post(action, data=fields, allow_redirects=False, timeout=10)
    raise AssertionError(f"The provider never sent the browser back: {response.text[:500]}")


def local_path(url: str) -> str:
    """Our own URL as the test client asks for it: path and query."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path
