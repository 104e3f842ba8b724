"""What the operational tables must hold, rebuilt from the audit chain alone.

Every state-changing step writes its audit event with the row it wrote
(``after``). Replaying the successful events in chain order therefore gives
the rows each covered table must hold now; :mod:`amnesty.audit.verify`
compares them with the database (missing, extra, altered). The rules, one per
entity kind, are written out for outside auditors in ``docs/audit.md``; this
module is their reference implementation and imports only the chain's format
and the few constants of the workflow that name what a release writes.

A replayed row holds JSON values, exactly as the event carries them (dates as
``YYYY-MM-DD``, times as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``); only the columns a
rule names are compared, so surrogate keys the events never carry
(``decision_id``, ``record_id``, ``checkpoint_id``) are not.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from amnesty.workflow.execution import EVENT_TYPES

Key = tuple[Any, ...]
Row = dict[str, Any]


@dataclass
class Expected:
    """The replayed state: ``tables[name][key]`` is a row, ``seq`` where it came from."""

    tables: dict[str, dict[Key, Row]] = field(default_factory=dict)
    seq: dict[tuple[str, Key], int] = field(default_factory=dict)
    # roster id -> (number of entries, digest of the entries, seq of the event carrying them)
    roster_digests: dict[int, tuple[int, str, int]] = field(default_factory=dict)
    # chain-level findings: (seq, what)
    findings: list[tuple[int, str]] = field(default_factory=list)
    runs: dict[str, Row] = field(default_factory=dict)  # run id -> the run's replayed row

    def put(self, table: str, key: Key, row: Row, seq: int) -> None:
        self.tables.setdefault(table, {})[key] = row
        self.seq[(table, key)] = seq

    def update(self, table: str, key: Key, values: Row, seq: int) -> None:
        current = self.tables.setdefault(table, {}).get(key)
        self.put(table, key, {**(current or {}), **values}, seq)

    def drop(self, table: str, key: Key) -> None:
        self.tables.setdefault(table, {}).pop(key, None)

    def rows(self, table: str) -> dict[Key, Row]:
        return self.tables.get(table, {})


Rule = Callable[[Expected, dict[str, Any], Any], None]
"""``rule(expected, event, after)``: apply one successful event to the replayed state."""


def _user(state: Expected, event: dict[str, Any], after: Any) -> None:
    key = (event["entity_id"],)
    if after is None:
        state.drop("users", key)
    else:
        state.put("users", key, dict(after), event["seq"])


def _decree(state: Expected, event: dict[str, Any], after: Any) -> None:
    key = (event["entity_id"],)
    first = key not in state.rows("decrees")
    if after is None:
        state.drop("decrees", key)
        return
    state.update("decrees", key, dict(after), event["seq"])
    if first:  # the registering event's actor is the decree's registered_by
        state.update("decrees", key, {"registered_by": event["actor"]}, event["seq"])


def _run(state: Expected, event: dict[str, Any], after: Any) -> None:
    key = (event["entity_id"],)
    if after is None:
        state.drop("runs", key)
        state.runs.pop(event["entity_id"], None)
        return
    state.put("runs", key, dict(after), event["seq"])
    state.runs[event["entity_id"]] = dict(after)


def _review(state: Expected, event: dict[str, Any], after: Any) -> None:
    if after is None:
        return
    key = (after["run_id"], after["person_id"], after["version"])
    state.put("review_decisions", key, dict(after), event["seq"])


def _roster(state: Expected, event: dict[str, Any], after: Any) -> None:
    if after is None:
        return
    roster_id = int(after["roster_id"])
    state.put("rosters", (roster_id,), _without(after, "entries", "digest"), event["seq"])
    if "digest" in after:  # the entries' digest, recorded at preparation (and approval)
        state.roster_digests[roster_id] = (int(after["entries"]), after["digest"], event["seq"])


def _undertaking(state: Expected, event: dict[str, Any], after: Any) -> None:
    if after is None:
        return
    base = (after["run_id"], after["person_id"], after["undertaking_id"])
    n = sum(1 for key in state.rows("undertaking_records") if key[:3] == base)
    state.put("undertaking_records", (*base, n + 1), dict(after), event["seq"])


def _release(state: Expected, event: dict[str, Any], after: Any) -> None:
    if after is None:
        return
    seq, release_id = event["seq"], int(after["release_id"])
    # carried for the registry events below, not columns of ``releases``
    row = _without(after, "revocation", "new_end_date", "new_sentence_kind", "returned_on")
    known = (release_id,) in state.rows("releases")
    state.put("releases", (release_id,), row, seq)
    run = state.runs.get(str(after["run_id"]), {})
    decree_id = run.get("decree_id")
    number = after.get("certificate_no")
    if not known:
        if number is not None and (number,) in state.rows("certificates"):
            earlier = state.seq[("certificates", (number,))]
            state.findings.append(
                (seq, f"certificate {number} issued again (first issued in event {earlier})")
            )
        if number is not None:
            certificate = {
                "certificate_no": number,
                "release_id": release_id,
                "issued_by": after["executed_by"],
                "issued_at": after["executed_at"],
                "path": None,
                "sha256": None,
            }
            state.put("certificates", (number,), certificate, seq)
        event_type = EVENT_TYPES.get(str(after["relief"]), "release")
        registry_event = {
            "event_id": f"{after['run_id']}:{after['person_id']}:{event_type}",
            "person_id": after["person_id"],
            "event_type": event_type,
            "event_date": after["release_date"],
            "facility_id": after["facility_id"],
            "decree_id": decree_id,
            "run_id": after["run_id"],
            "new_end_date": after.get("new_end_date"),
            "note": "conditional release" if after["relief"] == "conditional_release" else None,
        }
        if "new_sentence_kind" in after:  # events written before it was carried: not compared
            registry_event["new_sentence_kind"] = after["new_sentence_kind"]
        state.put("events", (registry_event["event_id"],), registry_event, seq)
    revocation = after.get("revocation")
    if revocation is not None:
        state.put("release_revocations", (release_id,), dict(revocation), seq)
        back = {
            "event_id": f"{after['run_id']}:{after['person_id']}:return",
            "person_id": after["person_id"],
            "event_type": "return",
            "facility_id": after["facility_id"],
            "decree_id": decree_id,
            "run_id": after["run_id"],
            "note": f"release revoked: {revocation['reason']}",
        }
        if "returned_on" in after:  # revocations written before it was carried: not compared
            back["event_date"] = after["returned_on"]
        state.put("events", (back["event_id"],), back, seq)


def _certificate(state: Expected, event: dict[str, Any], after: Any) -> None:
    if after is None:
        return
    values = {"path": after.get("path"), "sha256": after.get("sha256")}
    state.update("certificates", (event["entity_id"],), values, event["seq"])


def _registry_import(state: Expected, event: dict[str, Any], after: Any) -> None:
    """A re-import that discarded rows amnesty wrote (only a revoked release's) drops them."""
    for table, key in (after or {}).get("discarded", []):
        if table == "events":
            state.drop("events", (key,))


def _credential(state: Expected, event: dict[str, Any], after: Any) -> None:
    """A password set (revoking the user's earlier ones), a token issued, a token revoked."""
    if after is None:
        return
    key, seq, actor = (event["entity_id"],), event["seq"], event["actor"]
    if event["action"] == "user.token.revoke":
        state.update(
            "credentials", key, {"revoked_at": after["revoked_at"], "revoked_by": actor}, seq
        )
        return
    if after["kind"] == "password":  # the new password replaces the open ones, at once
        for earlier, held in list(state.rows("credentials").items()):
            mine = held["user_name"] == after["user"] and held["kind"] == "password"
            if mine and held["revoked_at"] is None:
                revoked = {"revoked_at": after["created_at"], "revoked_by": actor}
                state.update("credentials", earlier, revoked, seq)
    row: Row = {
        "user_name": after["user"],
        "kind": after["kind"],
        "label": after.get("label") or None,
        "created_at": after["created_at"],
        "created_by": actor,
        "expires_at": after.get("expires_at"),
        "revoked_at": None,
        "revoked_by": None,
    }
    if "secret_digest" in after:  # credentials issued before it was carried: not compared
        row["secret_digest"] = after["secret_digest"]
    state.put("credentials", key, row, seq)


def _checkpoint(state: Expected, event: dict[str, Any], after: Any) -> None:
    if after is None:
        return
    key = (int(after["seq"]), after["signature"])
    state.put("audit_checkpoints", key, dict(after), event["seq"])


RULES: dict[str, Rule] = {
    "user": _user,
    "decree": _decree,
    "run": _run,
    "review": _review,
    "roster": _roster,
    "undertaking": _undertaking,
    "release": _release,
    "certificate": _certificate,
    "credential": _credential,
    "checkpoint": _checkpoint,
    "snapshot": _registry_import,
}
"""Entity kind -> its replay rule; events of other kinds change no covered table."""


def replay(events: Iterable[dict[str, Any]]) -> Expected:
    """The covered tables' expected rows, from events in chain order.

    Only ``ok`` events count (a refusal changed nothing); ``after`` is JSON text
    as stored. An event whose ``after`` is not JSON is skipped here: the chain
    check reports it.
    """
    state = Expected()
    for event in events:
        if event["outcome"] != "ok":
            continue
        rule = RULES.get(event["entity_kind"])
        if rule is None:
            continue
        try:
            after = None if event["after"] is None else json.loads(event["after"])
        except ValueError:
            continue
        try:
            rule(state, event, after)
        except (KeyError, TypeError, ValueError) as exc:
            state.findings.append(
                (event["seq"], f"{event['action']} event lacks what its kind records ({exc!r})")
            )
    return state


def _without(row: dict[str, Any], *names: str) -> Row:
    return {k: v for k, v in row.items() if k not in names}
