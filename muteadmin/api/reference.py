"""The API's reference as the docs page shows it: drf-spectacular's schema, read into sections.

The schema is generated afresh for each reader, so every text marked for translation in it (the
operations' summaries, the parameters' and fields' descriptions) is in the reader's language.
Operations are grouped by their tag, each with its parameters, its JSON body's fields and its
answers, a nested object's fields named by their path (`expected.c2c.remaining_seconds`).
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.generators import SchemaGenerator

# Each tag's heading, in the order the page lists them; a tag not named here comes after them.
TAG_TITLES = {
    "mutes": _("Mutes"),
    "bulk": _("Bulk jobs"),
    "audit": _("Audit log"),
    "reports": _("Mute report"),
}
METHODS = ("get", "post", "put", "patch", "delete")
JSON = "application/json"
REF_PREFIX = "#/components/schemas/"
# How deep nested objects are opened; the API's deepest field (expected.c2c.remaining_seconds)
# is three names long.
MAX_DEPTH = 4

Schema = Mapping[str, Any]


@dataclass(frozen=True)
class Field:
    """A field of a JSON body, or a parameter: its name, where it goes, its type and meaning."""

    name: str
    type: str
    required: bool
    description: str
    location: str = ""


@dataclass(frozen=True)
class Answer:
    """One status an operation answers with, and the fields of a successful answer's body."""

    status: str
    description: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Operation:
    """One method on one path."""

    id: str
    method: str
    path: str
    summary: str
    description: str
    parameters: tuple[Field, ...]
    body: tuple[Field, ...]
    answers: tuple[Answer, ...]

    @property
    def anchor(self) -> str:
        return f"op-{self.id}"


@dataclass(frozen=True)
class Tag:
    """The operations under one tag, in the schema's order of paths."""

    name: str
    title: str
    operations: tuple[Operation, ...]

    @property
    def anchor(self) -> str:
        return f"tag-{self.name}"


@dataclass(frozen=True)
class Reference:
    """The whole page: what the API is, how to authenticate, the refusal's shape, the tags."""

    title: str
    version: str
    description: str
    authentication: tuple[str, ...]
    problem: tuple[Field, ...]
    tags: tuple[Tag, ...]


def api_schema() -> dict[str, Any]:
    """The schema /api/v1/schema serves, in the active language."""
    return SchemaGenerator().get_schema(request=None, public=True)


def api_reference(schema: Schema | None = None) -> Reference:
    """The docs page's sections from `schema` (the API's own, generated now, by default)."""
    schema = api_schema() if schema is None else schema
    components = schema.get("components", {})
    operations: dict[str, list[Operation]] = {}
    for path, methods in schema.get("paths", {}).items():
        for method in METHODS:
            if method in methods:
                found = methods[method]
                tag = (found.get("tags") or ["api"])[0]
                operations.setdefault(tag, []).append(_operation(path, method, found, components))
    order = list(TAG_TITLES)
    names = sorted(
        operations, key=lambda name: (order.index(name) if name in order else len(order), name)
    )
    info = schema.get("info", {})
    problem = components.get("schemas", {}).get("Problem", {})
    return Reference(
        title=info.get("title", ""),
        version=info.get("version", ""),
        description=info.get("description", ""),
        authentication=tuple(
            scheme.get("description", "")
            for scheme in components.get("securitySchemes", {}).values()
        ),
        problem=tuple(fields_of(problem, components)),
        tags=tuple(
            Tag(
                name=name, title=str(TAG_TITLES.get(name, name)), operations=tuple(operations[name])
            )
            for name in names
        ),
    )


def _operation(path: str, method: str, operation: Schema, components: Schema) -> Operation:
    parameters = tuple(
        Field(
            name=parameter["name"],
            location=parameter.get("in", ""),
            required=bool(parameter.get("required")),
            type=type_of(parameter.get("schema", {}), components),
            description=parameter.get("description", ""),
        )
        for parameter in operation.get("parameters", [])
    )
    body = operation.get("requestBody", {}).get("content", {}).get(JSON, {}).get("schema")
    answers = tuple(
        Answer(
            status=status,
            description=answer.get("description", ""),
            fields=tuple(fields_of(_body_schema(answer), components))
            if status.startswith("2")
            else (),
        )
        for status, answer in operation.get("responses", {}).items()
    )
    return Operation(
        id=operation.get("operationId", f"{method}-{path}"),
        method=method.upper(),
        path=path,
        summary=operation.get("summary", ""),
        description=operation.get("description", ""),
        parameters=parameters,
        body=tuple(fields_of(body, components)) if body else (),
        answers=answers,
    )


def _body_schema(answer: Schema) -> Schema:
    return answer.get("content", {}).get(JSON, {}).get("schema", {})


def resolved(schema: Schema, components: Schema) -> Schema:
    """`schema` with a reference (or a lone allOf around one, as for a nullable object) followed."""
    while True:
        if "$ref" in schema:
            schema = components.get("schemas", {}).get(schema["$ref"].removeprefix(REF_PREFIX), {})
        elif len(schema.get("allOf", ())) == 1:
            schema = {**schema["allOf"][0], **{k: v for k, v in schema.items() if k != "allOf"}}
        else:
            return schema


def type_of(schema: Schema, components: Schema) -> str:
    """A value's type as a reader of JSON writes it: `integer`, `string[]`, `"a" | "b" | null`."""
    nullable = schema.get("nullable", False)
    schema = resolved(schema, components)
    nullable = nullable or schema.get("nullable", False)
    if "oneOf" in schema:
        written = " | ".join(type_of(choice, components) for choice in schema["oneOf"])
    elif "enum" in schema:
        written = " | ".join(
            f'"{value}"' if isinstance(value, str) else str(value)
            for value in schema["enum"]
            if value is not None
        )
    elif schema.get("type") == "array":
        written = f"{type_of(schema.get('items', {}), components)}[]"
    elif schema.get("type") == "string" and schema.get("format"):
        written = f"string ({schema['format']})"
    else:
        written = schema.get("type", "any")
    return f"{written} | null" if nullable else written


def fields_of(
    schema: Schema, components: Schema, prefix: str = "", depth: int = 0
) -> Iterator[Field]:
    """Each field of an object `schema`, a nested object's (or list of objects') fields after it."""
    schema = resolved(schema, components)
    required = set(schema.get("required", ()))
    for name, field in schema.get("properties", {}).items():
        named = f"{prefix}{name}"
        yield Field(
            name=named,
            type=type_of(field, components),
            required=name in required,
            description=field.get("description", "")
            or resolved(field, components).get("description", ""),
        )
        inner = resolved(field, components)
        if inner.get("type") == "array":
            inner, named = resolved(inner.get("items", {}), components), f"{named}[]"
        if inner.get("properties") and depth < MAX_DEPTH:
            yield from fields_of(inner, components, f"{named}.", depth + 1)
