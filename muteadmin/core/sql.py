"""Statements the ORM makes slowly: one row inserted, one UPDATE run for many rows, and reads."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper


def insert_one(obj: models.Model, *, using: str | None = None) -> None:
    """Save the new `obj` with one INSERT, as save(force_insert=True) does; set its primary key.

    Field defaults and auto_now_add are applied as save() applies them; no signals are sent,
    so only for models nothing listens to. Building save()'s INSERT costs more than running it
    (bench/README.md, the account page).
    """
    model = type(obj)
    using = using or model.objects.db
    connection = connections[using]
    meta = model._meta
    fields = [field for field in meta.concrete_fields if field is not meta.auto_field]
    qn = connection.ops.quote_name
    returning = connection.features.can_return_columns_from_insert
    # Only quoted names from the model are formatted in; every value is a parameter.
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(field.column) for field in fields)})"  # noqa: S608
        f" VALUES ({', '.join(['%s'] * len(fields))})"
        + (f" RETURNING {qn(meta.pk.column)}" if returning else "")
    )
    params = [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        pk = cursor.fetchone()[0] if returning else cursor.lastrowid
    obj.pk = meta.pk.to_python(pk)
    obj._state.adding = False
    obj._state.db = using


@dataclass(frozen=True)
class Statement:
    """One SQL statement and its parameters, to run alone or with others (statements_run).

    Always run with parameters, even none: a literal % in `sql` is written %%.
    """

    sql: str
    params: Sequence[Any] = ()


@dataclass(frozen=True)
class StatementResult:
    """What one statement of statements_run returned: its rows (none for a write), and how many
    rows it read or changed."""

    rows: list[tuple]
    rowcount: int


def statements_run(statements: Sequence[Statement], *, using: str) -> list[StatementResult]:
    """Run `statements` in order on `using`; what each returned, in the same order.

    On PostgreSQL, whose cursors bind parameters on the client unless the database's OPTIONS
    ask otherwise (Django's default), they travel as one query: one round trip for all. Inside
    a transaction they run in it; outside one, PostgreSQL runs such a query as one transaction.
    Elsewhere each is its own execute.
    """
    connection = connections[using]
    together = (
        len(statements) > 1
        and connection.vendor == "postgresql"
        and not connection.settings_dict.get("OPTIONS", {}).get("server_side_binding")
    )
    results = []
    with connection.cursor() as cursor:
        if together:
            params = [param for statement in statements for param in statement.params]
            cursor.execute("; ".join(statement.sql for statement in statements), params)
            for n in range(len(statements)):
                if n:
                    cursor.nextset()
                results.append(_result(cursor))
            return results
        for statement in statements:
            cursor.execute(statement.sql, list(statement.params))
            results.append(_result(cursor))
    return results


def _result(cursor) -> StatementResult:
    if cursor.description is None:
        return StatementResult(rows=[], rowcount=cursor.rowcount)
    rows = cursor.fetchall()
    return StatementResult(rows=rows, rowcount=len(rows))


@dataclass(frozen=True)
class Read[T]:
    """A selector's statement and what its rows say, for a page that runs several of them in one
    round trip (reads_run)."""

    statement: Statement
    result: Callable[[list[tuple]], T]
    using: str = DEFAULT_DB_ALIAS


def reads_run(*reads: Read[Any]) -> list[Any]:
    """What each of `reads` found, in order; their statements run together (statements_run)."""
    using = reads[0].using
    if any(read.using != using for read in reads):
        raise ValueError("Reads run together must read the same database.")
    results = statements_run([read.statement for read in reads], using=using)
    return [read.result(result.rows) for read, result in zip(reads, results, strict=True)]


def _update_sql(model: type[models.Model], fields: Sequence[str], where: Sequence[str], connection):
    """UPDATE ... SET each of `fields` WHERE pk = %s AND each of `where` = %s."""
    meta = model._meta
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(meta.get_field(name).column)} = %s" for name in fields)
    matches = " AND ".join(
        f"{qn(column.column)} = %s"
        for column in [meta.pk, *(meta.get_field(name) for name in where)]
    )
    # Only quoted names from the model are formatted in; every value is a parameter.
    return f"UPDATE {qn(meta.db_table)} SET {assignments} WHERE {matches}"  # noqa: S608


def _update_params(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[tuple],
    where: Mapping[str, Any],
    connection,
) -> list[list[Any]]:
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    fixed = [
        meta.get_field(name).get_db_prep_value(value, connection) for name, value in where.items()
    ]
    return [
        [
            *(
                column.get_db_prep_save(value, connection)
                for column, value in zip(columns, row[:-1], strict=True)
            ),
            row[-1],
            *fixed,
        ]
        for row in rows
    ]


def update_statements(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[tuple],
    *,
    where: Mapping[str, Any] | None = None,
    using: str | None = None,
) -> list[Statement]:
    """update_each's UPDATE for each (*values, pk) tuple, to run with others (statements_run)."""
    connection = connections[using or model.objects.db]
    where = where or {}
    sql = _update_sql(model, fields, list(where), connection)
    return [
        Statement(sql, params) for params in _update_params(model, fields, rows, where, connection)
    ]


def update_each(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[tuple],
    *,
    where: Mapping[str, Any] | None = None,
    using: str | None = None,
) -> int:
    """Set `fields` of each row from a (*values, pk) tuple; return how many rows changed.

    One UPDATE ... WHERE pk = %s run for every tuple (executemany), and only where the columns
    in `where` equal their values as well. For the few dozen rows of a batch this costs a
    fraction of bulk_update, which builds a CASE expression per field and row.
    """
    if not rows:
        return 0
    connection = connections[using or model.objects.db]
    where = where or {}
    sql = _update_sql(model, fields, list(where), connection)
    params = _update_params(model, fields, rows, where, connection)
    with connection.cursor() as cursor:
        if len(params) == 1:
            # executemany costs psycopg a pipeline's extra round trips even for one row.
            cursor.execute(sql, params[0])
        else:
            cursor.executemany(sql, params)
        return cursor.rowcount


def counter_statement(
    model: type[models.Model],
    *,
    where: Mapping[str, Any],
    field: str,
    amount: int,
    using: str | None = None,
) -> Statement:
    """UPDATE ... SET field = field + amount WHERE the columns equal `where`: one plain UPDATE,
    which the ORM's F() expression and filter cost more to build than to run. Its rowcount says
    whether a row matched."""
    connection = connections[using or model.objects.db]
    meta = model._meta
    qn = connection.ops.quote_name
    conditions = [(meta.get_field(name), value) for name, value in where.items()]
    column = qn(meta.get_field(field).column)
    matches = " AND ".join(f"{qn(condition.column)} = %s" for condition, _ in conditions)
    # Only quoted names from the model are formatted in; every value is a parameter.
    sql = f"UPDATE {qn(meta.db_table)} SET {column} = {column} + %s WHERE {matches}"  # noqa: S608
    params = [condition.get_db_prep_value(value, connection) for condition, value in conditions]
    return Statement(sql, [amount, *params])


def row_where(
    model: type[models.Model],
    fields: Sequence[str],
    *,
    where: Mapping[str, Any],
    using: str | None = None,
) -> dict[str, Any] | None:
    """The `fields` of the row whose columns equal `where`, read as .values() reads them.

    None when there is none; `where` names a unique key. One plain SELECT: the ORM's filter
    costs more to build than to run.
    """
    using = using or model.objects.db
    connection = connections[using]
    meta = model._meta
    qn = connection.ops.quote_name
    columns = [meta.get_field(name) for name in fields]
    conditions = [(meta.get_field(name), value) for name, value in where.items()]
    selected = ", ".join(qn(column.column) for column in columns)
    matches = " AND ".join(f"{qn(condition.column)} = %s" for condition, _ in conditions)
    # Only quoted names from the model are formatted in; every value is a parameter.
    sql = f"SELECT {selected} FROM {qn(meta.db_table)} WHERE {matches}"  # noqa: S608
    params = [condition.get_db_prep_value(value, connection) for condition, value in conditions]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        stored = cursor.fetchone()
    if stored is None:
        return None
    (read,) = rows_as_read(model, fields, [stored], connection=connection)
    return read


def rows_as_read(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]], *, connection
) -> list[dict[str, Any]]:
    """Rows of `fields` as a cursor fetched them, converted as .values() reads them.

    The converters are the ones the ORM's compiler applies: the backend's (SQLite's datetimes
    arrive as text) and each field's own from_db_value.
    """
    meta = model._meta
    converting = []
    for name in fields:
        field = meta.get_field(name)
        column = field.get_col(meta.db_table)
        converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        converting.append((name, column, converters))
    read = []
    for row in rows:
        values = {}
        for (name, column, converters), value in zip(converting, row, strict=True):
            for convert in converters:
                value = convert(value, column, connection)
            values[name] = value
        read.append(values)
    return read


def table_column(connection: BaseDatabaseWrapper, meta: Any, name: str) -> str:
    """table.column of the field `name` of the model whose _meta is `meta`, quoted for
    `connection`: for statements that join several tables."""
    qn = connection.ops.quote_name
    return f"{qn(meta.db_table)}.{qn(meta.get_field(name).column)}"


def quoted_names(
    model: type[models.Model],
) -> tuple[BaseDatabaseWrapper, str, Callable[[str], str]]:
    """The connection `model` is read from, its table's name and a field's column, quoted for it."""
    connection = connections[model.objects.db]
    meta = model._meta
    qn = connection.ops.quote_name

    def column(name: str) -> str:
        return qn(meta.get_field(name).column)

    return connection, qn(meta.db_table), column
