"""Tokens and clients for the API's tests: a client that sends a token of a role and scopes."""

import json
from typing import Any

from django.test import Client

from muteadmin.api.tokens import api_token_create

ALL_SCOPES = ("read", "change", "bulk", "audit")


class ApiClient:
    """Sends JSON with `Authorization: Bearer <token>`; no session is ever signed in."""

    def __init__(self, secret: str | None) -> None:
        self.client = Client(raise_request_exception=False)
        self.secret = secret

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        sent = dict(headers or {})
        if self.secret is not None:
            sent.setdefault("Authorization", f"Bearer {self.secret}")
        return sent

    def get(self, url: str, params: dict[str, Any] | None = None, **headers):
        return self.client.get(url, params or {}, headers=self._headers(headers))

    def post(self, url: str, body: Any = None, **headers):
        return self.client.post(
            url,
            json.dumps(body if body is not None else {}),
            content_type="application/json",
            headers=self._headers(headers),
        )


def token_for(role: str, *scopes: str, name: str | None = None, days: int = 90):
    """A token of `role` with `scopes` (every scope by default), made as the server's operator."""
    token, secret = api_token_create(
        name=name or f"{role.lower()}-{'-'.join(scopes) or 'all'}",
        scopes=scopes or ALL_SCOPES,
        role=role,
        days=days,
        operator=None,
    )
    return token, secret


def api_as(role: str, *scopes: str, name: str | None = None) -> ApiClient:
    return ApiClient(token_for(role, *scopes, name=name)[1])


def problem(response, status: int) -> dict:
    """The problem details a refusal answered, checked for RFC 9457's members."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:muteadmin:problem:")
    assert body["title"] and body["detail"]
    return body
