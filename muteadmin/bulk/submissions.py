"""A bulk job from a valid bulk form, and the refusals a form makes, audited: shared by the bulk
page and the API, so both start jobs and record refusals alike."""

from django.contrib.auth.base_user import AbstractBaseUser

from muteadmin.audit.denials import audit_denied
from muteadmin.bulk.forms import BulkForm
from muteadmin.bulk.models import BulkJob
from muteadmin.bulk.services import bulk_job_create
from muteadmin.bulk.tasks import task_queue

# The sentence a bulk request from someone who may not run jobs is refused with.
BULK_REFUSED = "You may not run bulk jobs."
# The form errors that refuse a job for want of a permission (to change, or to mute permanently).
REFUSAL_CODES = ("change_denied", "permanent_denied", "over_limit")


def bulk_form_refusals(form: BulkForm) -> list[str]:
    """The sentences of the form's errors that are refusals, not typos."""
    return [
        message
        for errors in form.errors.as_data().values()
        for error in errors
        if error.code in REFUSAL_CODES
        for message in error.messages
    ]


def bulk_form_refusal_audit(
    *, form: BulkForm, operator: AbstractBaseUser, client_ip: str | None, app: str
) -> bool:
    """Audit a job the form refused for want of a permission (`denied`); whether it did."""
    refused = bulk_form_refusals(form)
    if refused:
        audit_denied(
            operator=operator,
            asked="bulk",
            refused=" ".join(refused),
            reason=form.cleaned_data.get("reason", ""),
            client_ip=client_ip,
            app=app,
            details={
                "operation": form.cleaned_data.get("operation", ""),
                "accounts": len(form.account_list.valid) if form.account_list else 0,
            },
        )
    return bool(refused)


def bulk_job_submit(*, form: BulkForm, operator: AbstractBaseUser, app: str) -> BulkJob:
    """Start the job a valid, confirmed bulk form describes, on the workers' queue."""
    cleaned = form.cleaned_data
    return bulk_job_create(
        operator=operator,
        operation=cleaned["operation"],
        accounts=form.account_list.valid,
        c2c_seconds=cleaned["c2c_seconds"],
        group_seconds=cleaned["group_seconds"],
        reason=cleaned["reason"],
        rule=cleaned["rule"],
        queue=task_queue,
        app=app,
        notice_language=(cleaned["notice_language"] or "en") if cleaned["notify"] else "",
        starts_at=cleaned.get("starts_at"),
    )
