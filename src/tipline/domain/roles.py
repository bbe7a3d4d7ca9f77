"""Who may do what: roles, the permissions they grant, and nothing by default."""

from __future__ import annotations

from enum import StrEnum

from tipline.domain.labels import LabelledEnum, labels


class Role(LabelledEnum):
    ANALYST = "analyst"
    SUPERVISOR = "supervisor"
    VICTIM_ID = "victim_id"
    AGENCY = "agency"
    ADMIN = "admin"
    ADVOCATE = "advocate"  # contacts reporters who asked for follow-up; never reads reports
    ESP = "esp"  # a service provider's API account, never a person's login
    PUBLIC = "public"  # anyone, unauthenticated


ROLE_LABELS = labels(Role, {
    Role.ANALYST: "Analyst",
    Role.SUPERVISOR: "Supervisor",
    Role.VICTIM_ID: "Victim-identification analyst",
    Role.AGENCY: "Law-enforcement agency user",
    Role.ADMIN: "Administrator",
    Role.ADVOCATE: "Advocate",
    Role.ESP: "Service provider API account",
    Role.PUBLIC: "Member of the public",
})

USER_ROLES = (Role.ANALYST, Role.SUPERVISOR, Role.VICTIM_ID, Role.AGENCY, Role.ADMIN, Role.ADVOCATE)
"""Roles a person's login can have (ESP accounts and the public are not logins)."""


class Permission(StrEnum):
    REPORT_READ = "report.read"  # read any report's content (staff who review)
    REPORT_SUBMIT = "report.submit"  # file reports by API, read back one's own
    REPORT_REVIEW = "report.review"  # claim, decide, annotate
    REPORT_SUPERVISE = "report.supervise"  # assign, reopen, see workload
    ACCOUNTS_MANAGE = "accounts.manage"  # people's logins and service-provider accounts
    AUDIT_VERIFY = "audit.verify"
    AGENCY_PORTAL = "agency.portal"  # referrals made to one's own agency
    SERIES_MANAGE = "series.manage"  # the victim-identification series registry, its queue and clusters
    PUBLIC_SUBMIT = "public.submit"
    # follow-up requests: the reporter's chosen contact details, safe times and the referrals made
    # (never the report's content or evidence)
    FOLLOW_UP = "follow_up.manage"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ANALYST: frozenset({Permission.REPORT_READ, Permission.REPORT_REVIEW}),
    Role.SUPERVISOR: frozenset(
        {
            Permission.REPORT_READ,
            Permission.REPORT_REVIEW,
            Permission.REPORT_SUPERVISE,
            Permission.AUDIT_VERIFY,
            Permission.SERIES_MANAGE,
        }
    ),
    Role.VICTIM_ID: frozenset({Permission.REPORT_READ, Permission.SERIES_MANAGE}),
    Role.AGENCY: frozenset({Permission.AGENCY_PORTAL}),
    # Administrators run the system; least privilege keeps report content out of their reach.
    Role.ADMIN: frozenset({Permission.ACCOUNTS_MANAGE, Permission.AUDIT_VERIFY}),
    # Advocates call back reporters who asked for it: their contact details, not what they reported.
    Role.ADVOCATE: frozenset({Permission.FOLLOW_UP}),
    Role.ESP: frozenset({Permission.REPORT_SUBMIT}),
    Role.PUBLIC: frozenset({Permission.PUBLIC_SUBMIT}),
}


def has_permission(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


def reads_reports(role: Role) -> bool:
    """Whether a role reads report content."""
    return has_permission(role, Permission.REPORT_READ)


GRANT_APPROVERS = (Role.ADMIN, Role.SUPERVISOR)
"""Roles whose holders may approve someone else's request to grant a role that reads reports."""


def needs_second_person(role: Role) -> bool:
    """Whether giving a person this role on the web needs a second person's approval (the server's
    command line gives it at once), with supervisors told: roles that read reports, and the roles
    that approve such grants (else one admin could make a second admin login and approve with it), and
    the advocate's, which reads the contact details of reporters (often children) who asked to be called."""
    return reads_reports(role) or role in GRANT_APPROVERS or has_permission(role, Permission.FOLLOW_UP)
