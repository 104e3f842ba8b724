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
