"""The roles a user may hold; what each may do is checked where the step is taken."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    drafter = "drafter"
    analyst = "analyst"
    reviewer = "reviewer"
    approver = "approver"
    facility_officer = "facility_officer"
    auditor = "auditor"


# Who may see a person's health facts (DESIGN: "only roles that need it may see it, and
# reads are logged"): those who decide, approve or carry out a case, and the auditor who
# checks them; a facility officer only for their own facilities. Not the drafter or the
# analyst, who work on aggregates, nor the admin, who manages accounts.
HEALTH_READERS = (Role.reviewer, Role.approver, Role.facility_officer, Role.auditor)
