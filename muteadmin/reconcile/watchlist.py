"""The watchlist: accounts Leads want checked every run. Each change is an audit row."""

from collections.abc import Sequence

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.services import audit_record
from muteadmin.reconcile.models import WatchedAccount
from muteadmin.tencent.accounts import validate_account

# Accounts one paste may add; a longer list is refused whole, nothing added.
PASTE_MAX = 10_000
MANAGE_PERMISSION = "reconcile.manage_watchlist"


def watchlist_add(
    *,
    operator: AbstractBaseUser,
    accounts: Sequence[str],
    app: str,
    client_ip: str | None = None,
) -> list[str]:
    """Add the accounts (already valid UserIDs) not yet watched in `app`; return those added.

    One audit row per account added, in one transaction with the additions.
    """
    for account in accounts:
        validate_account(account)
    with transaction.atomic():
        present = set(
            WatchedAccount.objects.filter(app=app, account__in=list(accounts)).values_list(
                "account", flat=True
            )
        )
        added = [account for account in dict.fromkeys(accounts) if account not in present]
        WatchedAccount.objects.bulk_create(
            WatchedAccount(app=app, account=account, added_by=operator.get_username())
            for account in added
        )
        for account in added:
            _audit(operator, account=account, app=app, done="added", client_ip=client_ip)
    return added


def watchlist_remove(
    *, operator: AbstractBaseUser, account: str, app: str, client_ip: str | None = None
) -> bool:
    """Stop watching `account` in `app`; False (nothing recorded) if it was not watched."""
    with transaction.atomic():
        removed, _ = WatchedAccount.objects.filter(app=app, account=account).delete()
        if removed:
            _audit(operator, account=account, app=app, done="removed", client_ip=client_ip)
    return bool(removed)


def _audit(
    operator: AbstractBaseUser, *, account: str, app: str, done: str, client_ip: str | None
) -> None:
    audit_record(
        operator=operator,
        action=AuditEntry.Action.WATCHLIST,
        account=account,
        app=app,
        client_ip=client_ip,
        details={"watchlist": done},
    )
