"""Django's model permissions and the signed-in user, each read in one plain query."""

from collections.abc import Sequence
from functools import cache
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connections

from muteadmin.core.sql import row_where, rows_as_read, table_column


class OneQueryModelBackend(ModelBackend):
    """ModelBackend whose permission set (the user's own and their groups') is one query.

    ModelBackend reads the user's permissions and their groups' in two ORM queries before any
    page is drawn; here they are one statement, written once from the models' tables (building
    the ORM's costs more than running it), and kept on the user for the rest of the request as
    ModelBackend keeps its own. Who may do what is unchanged: inactive users have no
    permissions, superusers have them all.
    """

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_one_query_permissions"):
            user_obj._one_query_permissions = _permission_names(user_obj)
        return user_obj._one_query_permissions

    def get_user(self, user_id: Any) -> Any:
        """The signed-in user (every request reads it), read with one plain SELECT.

        With settings.AUTH_USER_READ_WITH naming a model that has a one-to-one field to the
        user, and some of its fields, the same SELECT reads the user's row of it too (as
        `user.read_with`, a dict of those fields, or None when the user has no row): a page
        that needs it on every request then costs no second query. As ModelBackend's: None
        when there is no such user or they may not sign in.
        """
        user_model = get_user_model()
        names = [field.attname for field in user_model._meta.concrete_fields]
        joined = getattr(settings, "AUTH_USER_READ_WITH", None)
        if joined:
            read, extra = _user_and_joined(user_model, names, user_id, *joined)
        else:
            read = row_where(user_model, names, where={user_model._meta.pk.name: user_id})
        if read is None:
            return None
        user = user_model.from_db(
            user_model._default_manager.db, names, [read[name] for name in names]
        )
        if joined:
            user.read_with = extra
        return user if self.user_can_authenticate(user) else None


def _user_and_joined(
    user_model: Any, names: list[str], user_id: Any, label: str, fields: Sequence[str]
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The user's `names` and, LEFT JOINed, `fields` of their row of the model `label`."""
    joined = apps.get_model(label)
    connection = connections[user_model._default_manager.db]
    qn = connection.ops.quote_name
    users, rows = qn(user_model._meta.db_table), qn(joined._meta.db_table)
    link = next(
        field
        for field in joined._meta.concrete_fields
        if field.one_to_one and field.related_model is user_model
    )
    pk = user_model._meta.pk
    selected = [table_column(connection, user_model._meta, name) for name in names]
    selected += [table_column(connection, joined._meta, name) for name in fields]
    # Only quoted names from the models are formatted in; the user is a parameter.
    sql = (
        f"SELECT {rows}.{qn(link.column)}, {', '.join(selected)} FROM {users}"  # noqa: S608
        f" LEFT JOIN {rows} ON {rows}.{qn(link.column)} = {users}.{qn(pk.column)}"
        f" WHERE {users}.{qn(pk.column)} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk.get_db_prep_value(user_id, connection)])
        stored = cursor.fetchone()
    if stored is None:
        return None, None
    (read,) = rows_as_read(user_model, names, [stored[1 : len(names) + 1]], connection=connection)
    if stored[0] is None:
        return read, None
    (extra,) = rows_as_read(joined, fields, [stored[len(names) + 1 :]], connection=connection)
    return read, extra


def _permission_names(user: Any) -> set[str]:
    if user.is_superuser:
        names = Permission.objects.order_by().values_list("content_type__app_label", "codename")
    else:
        connection = connections[Permission.objects.db]
        with connection.cursor() as cursor:
            cursor.execute(_user_permissions_sql(connection.alias), [user.pk, user.pk])
            names = cursor.fetchall()
    return {f"{app_label}.{codename}" for app_label, codename in names}


@cache
def _user_permissions_sql(alias: str) -> str:
    """The app labels and codenames of a user's permissions: their own, then their groups'."""
    connection = connections[alias]
    qn = connection.ops.quote_name
    user_model = get_user_model()
    user_permissions = user_model._meta.get_field("user_permissions").remote_field.through._meta
    user_groups = user_model._meta.get_field("groups").remote_field.through._meta
    group_permissions = Group._meta.get_field("permissions").remote_field.through._meta
    content_type = Permission._meta.get_field("content_type")

    def column(meta: Any, name: str) -> str:
        return table_column(connection, meta, name)

    permission, types = Permission._meta, content_type.related_model._meta
    # Only quoted names from the models are formatted in; the user is a parameter.
    return (
        f"SELECT {column(types, 'app_label')}, {column(permission, 'codename')}"  # noqa: S608
        f" FROM {qn(permission.db_table)} INNER JOIN {qn(types.db_table)}"
        f" ON {column(types, 'id')} = {qn(permission.db_table)}.{qn(content_type.column)}"
        f" WHERE {column(permission, 'id')} IN ("
        f"SELECT {column(user_permissions, 'permission')} FROM {qn(user_permissions.db_table)}"
        f" WHERE {column(user_permissions, 'user')} = %s"
        f" UNION SELECT {column(group_permissions, 'permission')}"
        f" FROM {qn(group_permissions.db_table)} INNER JOIN {qn(user_groups.db_table)}"
        f" ON {column(user_groups, 'group')} = {column(group_permissions, 'group')}"
        f" WHERE {column(user_groups, 'user')} = %s)"
    )
