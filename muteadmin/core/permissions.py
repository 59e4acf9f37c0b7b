"""Django's model permissions and the signed-in user, each read in one plain query."""

from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connections

from muteadmin.core.sql import row_where


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

        As ModelBackend's: None when there is none or they may not sign in.
        """
        user_model = get_user_model()
        names = [field.attname for field in user_model._meta.concrete_fields]
        meta = user_model._meta
        read = row_where(user_model, names, where={meta.pk.name: user_id})
        if read is None:
            return None
        user = user_model.from_db(
            user_model._default_manager.db, names, [read[name] for name in names]
        )
        return user if self.user_can_authenticate(user) else None


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
    qn = connections[alias].ops.quote_name
    user_model = get_user_model()
    user_permissions = user_model._meta.get_field("user_permissions").remote_field.through._meta
    user_groups = user_model._meta.get_field("groups").remote_field.through._meta
    group_permissions = Group._meta.get_field("permissions").remote_field.through._meta
    content_type = Permission._meta.get_field("content_type")

    def column(meta: Any, name: str) -> str:
        return f"{qn(meta.db_table)}.{qn(meta.get_field(name).column)}"

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
