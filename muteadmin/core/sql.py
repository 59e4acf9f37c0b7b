"""Statements the ORM makes slowly: one UPDATE run for many rows, each with its own values."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper


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
    using = using or model.objects.db
    connection = connections[using]
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    conditions = [(meta.get_field(name), value) for name, value in (where or {}).items()]
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(column.column)} = %s" for column in columns)
    matches = " AND ".join(
        f"{qn(column.column)} = %s" for column in [meta.pk, *(field for field, _ in conditions)]
    )
    # Only quoted names from the model are formatted in; every value is a parameter.
    sql = f"UPDATE {qn(meta.db_table)} SET {assignments} WHERE {matches}"  # noqa: S608
    fixed = [field.get_db_prep_value(value, connection) for field, value in conditions]
    params = [
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
    with connection.cursor() as cursor:
        if len(params) == 1:
            # executemany costs psycopg a pipeline's extra round trips even for one row.
            cursor.execute(sql, params[0])
        else:
            cursor.executemany(sql, params)
        return cursor.rowcount


def _counter_update(
    model: type[models.Model], *, where: Mapping[str, Any], field: str, connection
) -> tuple[str, list[Any]]:
    """UPDATE ... SET field = field + %s WHERE ...; its parameters after the amount."""
    meta = model._meta
    qn = connection.ops.quote_name
    conditions = [(meta.get_field(name), value) for name, value in where.items()]
    column = qn(meta.get_field(field).column)
    matches = " AND ".join(f"{qn(condition.column)} = %s" for condition, _ in conditions)
    # Only quoted names from the model are formatted in; every value is a parameter.
    sql = f"UPDATE {qn(meta.db_table)} SET {column} = {column} + %s WHERE {matches}"  # noqa: S608
    return sql, [condition.get_db_prep_value(value, connection) for condition, value in conditions]


def counter_add(
    model: type[models.Model],
    *,
    where: Mapping[str, Any],
    field: str,
    amount: int,
    using: str | None = None,
) -> int:
    """Add `amount` to `field` of the rows whose columns equal `where`; return how many changed.

    One plain UPDATE: the ORM's F() expression and filter cost more to build than to run.
    """
    connection = connections[using or model.objects.db]
    sql, params = _counter_update(model, where=where, field=field, connection=connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [amount, *params])
        return cursor.rowcount


def counters_add(
    counters: Sequence[tuple[type[models.Model], Mapping[str, Any], int]],
    *,
    field: str,
    using: str,
) -> list[int]:
    """counter_add for each (model, where, amount); how many rows each changed, in order.

    On PostgreSQL the UPDATEs travel as one statement (each in its own WITH clause), so the
    count and its per-operator twin cost one round trip, not two; elsewhere one each.
    """
    connection = connections[using]
    if connection.vendor != "postgresql" or len(counters) < 2:
        return [
            counter_add(model, where=where, field=field, amount=amount, using=using)
            for model, where, amount in counters
        ]
    clauses, counts, params = [], [], []
    for n, (model, where, amount) in enumerate(counters):
        sql, where_params = _counter_update(model, where=where, field=field, connection=connection)
        clauses.append(f"c{n} AS ({sql} RETURNING 1)")
        counts.append(f"(SELECT COUNT(*) FROM c{n})")  # noqa: S608
        params += [amount, *where_params]
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(clauses)} SELECT {', '.join(counts)}", params)
        return list(cursor.fetchone())


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
