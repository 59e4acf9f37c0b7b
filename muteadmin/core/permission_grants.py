"""Data migrations that give an app's permissions to roles (groups) and take them back.

Migrations already applied import this module: change it only in ways they still work with.
"""

from collections.abc import Callable, Sequence

from django.contrib.auth.management import create_permissions
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.models import Q

RunPythonCode = Callable[[StateApps, BaseDatabaseSchemaEditor], None]


def permissions_grant(
    app_label: str,
    codenames: Sequence[str],
    *,
    groups: Sequence[str] = (),
    holders_of: str = "",
    revoke_from_all: bool = False,
) -> tuple[RunPythonCode, RunPythonCode]:
    """The (forward, backward) pair for `RunPython` that grants `app_label`'s `codenames`.

    Forward gives them to the groups named in `groups` that exist and, with `holders_of`
    ("app_label.codename"), to every group holding that permission. Backward takes them from
    the same groups, or with `revoke_from_all` from every group.
    """

    def grantees(apps: StateApps):
        chosen = Q(name__in=groups)
        if holders_of:
            held_app, held_codename = holders_of.split(".")
            chosen |= Q(
                permissions__content_type__app_label=held_app, permissions__codename=held_codename
            )
        return apps.get_model("auth", "Group").objects.filter(chosen).distinct()

    def permissions(apps: StateApps) -> list:
        return list(
            apps.get_model("auth", "Permission").objects.filter(
                content_type__app_label=app_label, codename__in=codenames
            )
        )

    def forward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        # Permissions are normally created after all migrations; the groups need these now.
        app_config = apps.get_app_config(app_label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
        granted = permissions(apps)
        missing = set(codenames) - {permission.codename for permission in granted}
        if missing:
            raise LookupError(f"{app_label} has no permission {', '.join(sorted(missing))}")
        for group in grantees(apps):
            group.permissions.add(*granted)

    def backward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        Group = apps.get_model("auth", "Group")
        revoked = permissions(apps)
        for group in Group.objects.all() if revoke_from_all else grantees(apps):
            group.permissions.remove(*revoked)

    return forward, backward
