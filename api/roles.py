"""Who may do what, declared once: every route names one permission, every role a set."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    UNDERWRITER = "underwriter"
    INVESTIGATOR = "investigator"
    ANALYST = "analyst"
    ADMIN = "admin"


class Permission(StrEnum):
    SUBMIT_APPLICATION = "submit_application"
    READ_APPLICATION = "read_application"
    MANAGE_LOAN = "manage_loan"  # contract, disburse, decline, repayments
    LOOKUP_ENTITY = "lookup_entity"
    EXPLORE_GRAPH = "explore_graph"
    REVEAL_PII = "reveal_pii"  # clear personal data; every view is audited
    READ_RINGS = "read_rings"
    EXPORT_REPORTS = "export_reports"
    WORK_CASES = "work_cases"
    MANAGE_WATCHLIST = "manage_watchlist"
    READ_PORTFOLIO = "read_portfolio"
    READ_AUDIT = "read_audit"
    MANAGE_USERS = "manage_users"
    READ_METRICS = "read_metrics"  # Prometheus scrapes with an admin token
    READ_MODEL = "read_model"  # the champion/challenger, score distribution and drift
    DECIDE_APPROVALS = "decide_approvals"  # the checker's half of four eyes


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.UNDERWRITER: frozenset({P.SUBMIT_APPLICATION, P.READ_APPLICATION, P.MANAGE_LOAN,
                                 P.LOOKUP_ENTITY}),
    Role.INVESTIGATOR: frozenset({P.READ_APPLICATION, P.LOOKUP_ENTITY, P.EXPLORE_GRAPH,
                                  P.REVEAL_PII, P.READ_RINGS, P.EXPORT_REPORTS, P.WORK_CASES,
                                  P.MANAGE_WATCHLIST, P.READ_MODEL, P.DECIDE_APPROVALS}),
    Role.ANALYST: frozenset({P.READ_APPLICATION, P.EXPLORE_GRAPH, P.READ_RINGS,
                             P.EXPORT_REPORTS, P.READ_PORTFOLIO, P.READ_MODEL}),
    Role.ADMIN: frozenset(Permission),
}


#: Four-eyes actions whose checker must be an admin; investigators check the others
#: (overriding a decline, confirming a ring, a watchlist entry, suspending a dealer).
ADMIN_CHECKED_ACTIONS = frozenset({"change_policy", "promote_model", "export_unmasked"})


def allowed(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def may_check(role: Role, action: str) -> bool:
    """Whether ``role`` may be the checker of a four-eyes ``action``."""
    return allowed(role, Permission.DECIDE_APPROVALS) and (
        role is Role.ADMIN or action not in ADMIN_CHECKED_ACTIONS)
