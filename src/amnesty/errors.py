"""Every error amnesty raises on purpose derives from :class:`AmnestyError`.

The CLI turns any of them into ``Error: ...`` on stderr and exit code 1; anything
else is a bug and keeps its traceback.

    AmnestyError
    ├── ConfigError              bad --db URL, unknown profile, missing file
    ├── RegistryError
    │   └── ImportRejected       rows that broke a rule (carries every rejection)
    ├── DecreeError              a decree that cannot be read or compiled
    │   └── DecreeErrors         several positioned problems at once (``check``)
    ├── EngineError              a backend failed to run a compiled decree
    ├── WorkflowError
    │   ├── PermissionDenied     the user lacks the role or the facility scope
    │   ├── IllegalTransition    the step is not allowed from the current state
    │   └── Conflict             another user changed the same thing first
    └── AuditError               the chain does not verify
"""

from __future__ import annotations

from dataclasses import dataclass


class AmnestyError(Exception):
    """Root of amnesty's own errors: a message fit for the person at the terminal."""


class ConfigError(AmnestyError, ValueError):
    """A setting, option or path that amnesty cannot use."""


class RegistryError(AmnestyError):
    """A registry that cannot be generated, imported or read."""


@dataclass(frozen=True)
class Rejection:
    """One value that broke one rule, located precisely enough to fix it."""

    table: str
    row: int | None  # 1-based data row in the source file; None for table-level problems
    column: str | None
    value: str | None
    rule: str

    def __str__(self) -> str:
        where = self.table
        if self.row is not None:
            where += f" row {self.row}"
        if self.column:
            where += f" column {self.column}"
        shown = "" if self.value is None else f" value {self.value!r}:"
        return f"{where}:{shown} {self.rule}"


class ImportRejected(RegistryError):
    """The import found rows that break the schema; nothing was written."""

    def __init__(self, rejections: list[Rejection], message: str | None = None) -> None:
        self.rejections = rejections
        first = "; ".join(str(r) for r in rejections[:3])
        more = f" (and {len(rejections) - 3} more)" if len(rejections) > 3 else ""
        super().__init__(message or f"{len(rejections)} row(s) rejected: {first}{more}")


@dataclass(frozen=True)
class Position:
    """Where in a decree file: 1-based line and column, plus the offending text."""

    file: str
    line: int
    column: int
    text: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class DecreeError(AmnestyError):
    """A decree problem, positioned where the position is known."""

    def __init__(
        self, message: str, position: Position | None = None, hint: str = "", code: str = ""
    ) -> None:
        self.message = message
        self.position = position
        self.hint = hint
        self.code = code  # the class of problem, e.g. "unknown-name", for tests and --format json
        text = f"{position}: {message}" if position else message
        if hint:
            text += f" ({hint})"
        super().__init__(text)


class DecreeErrors(DecreeError):
    """Several decree problems, reported together so a drafter fixes them in one go."""

    def __init__(self, errors: list[DecreeError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class EngineError(AmnestyError):
    """A compiled decree failed inside a backend."""


class WorkflowError(AmnestyError):
    """A case-work step that cannot be carried out."""


class PermissionDenied(WorkflowError, PermissionError):
    """The acting user lacks the role or the facility scope for this step."""


class IllegalTransition(WorkflowError):
    """The step is not allowed from the current state (e.g. release before approval)."""


class Conflict(WorkflowError):
    """Someone else changed the same record first; reload and try again."""


class AuditError(AmnestyError):
    """The audit chain does not verify."""
