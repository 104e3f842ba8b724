"""Release certificates as PDF, rendered with Typst from wheel-installed fonts.

A certificate names the decree (title, id, short content hash), the person (in
the registry's own script and romanised), the facility, the grounds with their
legal text, the undertakings signed, the release date and the run. One PDF per
person, or one batch per facility (a cover list, then a page per person).

A batch is laid out in parts: the cover list, then the certificate pages in
runs of :data:`PART_SIZE`, the parts rendered by a pool of threads (one per
core: Typst lays out one document on one core, and lets go of the GIL while it
does) and joined into one PDF with
pikepdf. The parts depend only on the certificates, never on the number of
cores, so the same batch is the same bytes on any machine.

Why Typst: it installs as a wheel with its fonts engine inside, lays out any
script the font covers, and takes its data as JSON (``sys.inputs``), so names
and reasons never pass through markup and need no escaping. The font is Noto
Sans CJK (Hangul, Latin and Cyrillic) from the ``cvttf-notosanscjk-regular``
wheel; system fonts are ignored so that a certificate looks the same on every
machine.

The data side (:func:`certificate_data`, reading the store) lives in
:mod:`amnesty.workflow.certificate_store`; this module only renders.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from amnesty.errors import WorkflowError

TEMPLATE = "certificate.typ"
FONT_PACKAGE = "cvttf_NotoSansCJK_Regular"
ISSUER = "amnesty"
PART_SIZE = 250  # certificate pages per rendered part of a batch

RELIEF_TITLES = {
    "release": ("Release", "release"),
    "conditional_release": ("Conditional Release", "conditional release"),
    "temporary_release": ("Temporary Release", "temporary release"),
    "commutation": ("Commutation", "a commutation of sentence"),
}


@dataclass(frozen=True)
class PersonPart:
    id: str
    name: str  # in the registry's own script
    name_romanised: str
    birth_date: str | None = None


@dataclass(frozen=True)
class FacilityPart:
    id: str
    name: str
    name_romanised: str


@dataclass(frozen=True)
class DecreePart:
    id: str
    title: str
    content_hash: str
    authority: str
    signed: str | None = None

    @property
    def hash_short(self) -> str:
        return self.content_hash.removeprefix("sha256:")[:12]


@dataclass(frozen=True)
class Ground:
    id: str
    text: str  # the clause's legal text


@dataclass(frozen=True)
class SignedUndertaking:
    id: str
    text: str
    signed_on: str
    witness: str


@dataclass(frozen=True)
class CertificateData:
    """Everything one certificate prints; plain strings so it serialises as is."""

    number: str
    decree: DecreePart
    person: PersonPart
    facility: FacilityPart
    relief: str
    release_date: str
    run_id: str
    executed_by: str
    issued_on: str
    grounds: tuple[Ground, ...] = ()
    undertakings: tuple[SignedUndertaking, ...] = ()
    return_date: str | None = None  # temporary release
    new_end_date: str | None = None  # commutation
    override_reason: str | None = None  # executed outside the window
    extra: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["decree"]["hash_short"] = self.decree.hash_short
        title, phrase = RELIEF_TITLES.get(self.relief, ("Release", self.relief))
        data["relief_title"] = title
        data["relief_phrase"] = phrase
        return data


def certificate_number(decree_id: str, sequence: int) -> str:
    """The printed number: the decree id and a gap-free sequence within it."""
    if sequence < 1:
        raise ValueError(f"certificate sequence starts at 1, got {sequence}")
    return f"{decree_id}/{sequence:06d}"


def font_dir() -> Path:
    """The folder of the wheel-installed Noto Sans CJK font (never a system font)."""
    try:
        folder = resources.files(FONT_PACKAGE)
    except ModuleNotFoundError as exc:
        raise WorkflowError(
            f"font package {FONT_PACKAGE} is not installed; reinstall amnesty "
            "(it depends on cvttf-notosanscjk-regular)"
        ) from exc
    path = Path(str(folder))
    if not any(p.suffix.lower() in (".otf", ".ttf") for p in path.iterdir()):
        raise WorkflowError(f"no font file in {path}; reinstall cvttf-notosanscjk-regular")
    return path


def _template_dir() -> Path:
    return Path(str(resources.files("amnesty.workflow") / "templates"))


def _compile(document: dict[str, Any]) -> bytes:
    import typst

    template = _template_dir() / TEMPLATE
    try:
        pdf = typst.compile(
            str(template),
            root=str(template.parent),
            font_paths=[str(font_dir())],
            ignore_system_fonts=True,
            sys_inputs={"data": json.dumps(document, ensure_ascii=False)},
            # a fixed creation time: the same certificate renders to the same bytes
            timestamp=_timestamp(document),
        )
    except typst.TypstError as exc:  # a template bug, not bad data
        raise WorkflowError(f"certificate rendering failed: {exc}") from exc
    if not isinstance(pdf, bytes):
        raise WorkflowError("certificate rendering returned no PDF")
    return pdf


def _timestamp(document: dict[str, Any]) -> int:
    issued = document.get("issued_on") or max(
        (c["issued_on"] for c in document["certificates"]), default="1970-01-01"
    )
    day = dt.date.fromisoformat(issued[:10])
    return int(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp())


def _footer(certs: Sequence[CertificateData]) -> str:
    runs = sorted({c.run_id for c in certs})
    decree = certs[0].decree
    return f"Decree {decree.id} ({decree.hash_short}) · run {', '.join(runs)} · issued by {ISSUER}"


def render_certificate(cert: CertificateData) -> bytes:
    """One person's certificate as PDF bytes."""
    document = {
        "title": f"Certificate {cert.number}",
        "issuer": ISSUER,
        "footer": _footer([cert]),
        "certificates": [cert.as_json()],
    }
    return _compile(document)


def render_batch(
    facility: FacilityPart,
    certs: Sequence[CertificateData],
    *,
    workers: int | None = None,
    part_size: int = PART_SIZE,
) -> bytes:
    """A facility's certificates in one PDF: a cover list, then one page each.

    The parts are rendered by ``workers`` threads (default: one per core the
    process may use) and joined; the bytes do not depend on ``workers``.
    """
    if not certs:
        raise WorkflowError(f"facility {facility.id}: no certificates to print")
    ordered = sorted(certs, key=lambda c: c.number)
    parts = batch_parts(facility, ordered, part_size)
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    workers = max(1, min(workers, len(parts)))
    if workers == 1:
        pdfs = [_compile(part) for part in parts]
    else:
        from concurrent.futures import ThreadPoolExecutor

        # typst.compile lets go of the GIL while it lays out, so threads use every core
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="typst") as pool:
            pdfs = list(pool.map(_compile, parts))
    return join_pdfs(pdfs, title=str(parts[0]["title"]))


def batch_parts(
    facility: FacilityPart, ordered: Sequence[CertificateData], part_size: int = PART_SIZE
) -> list[dict[str, Any]]:
    """The Typst documents of a batch: its cover list, then runs of ``part_size`` pages."""
    if part_size < 1:
        raise ValueError(f"part size must be at least 1, got {part_size}")
    common = {
        "title": f"Certificates, {facility.id}",
        "issuer": ISSUER,
        "footer": _footer(ordered),
    }
    cover = {
        **common,
        "cover": {
            "facility": asdict(facility),
            "authority": ordered[0].decree.authority,
            "decree_title": ordered[0].decree.title,
        },
        "listing": [
            {
                "number": c.number,
                "person_id": c.person.id,
                "name": c.person.name,
                "name_romanised": c.person.name_romanised,
                "release_date": c.release_date,
            }
            for c in ordered
        ],
        "certificates": [],
        # the cover's date: that of the batch, so every part has the same timestamp
        "issued_on": max(c.issued_on for c in ordered),
    }
    pages = []
    for start in range(0, len(ordered), part_size):
        run = ordered[start : start + part_size]
        pages.append(
            {
                **common,
                "total": len(ordered),
                "issued_on": cover["issued_on"],
                "certificates": [
                    {**c.as_json(), "position": start + i + 1} for i, c in enumerate(run)
                ],
            }
        )
    return [cover, *pages]


def join_pdfs(pdfs: Sequence[bytes], *, title: str) -> bytes:
    """The pages of ``pdfs`` in order as one PDF, with the same bytes for the same input."""
    if len(pdfs) == 1:
        return pdfs[0]
    import pikepdf

    joined = pikepdf.new()
    opened = [pikepdf.open(io.BytesIO(pdf)) for pdf in pdfs]
    try:
        for part in opened:
            joined.pages.extend(part.pages)
        with joined.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["dc:title"] = title
            meta["dc:creator"] = [ISSUER]
        out = io.BytesIO()
        joined.save(out, deterministic_id=True, compress_streams=True)
    finally:
        for part in opened:
            part.close()
    return out.getvalue()


def pdf_name(name: str) -> str:
    """``name.pdf`` as a file name: any character that could leave the folder or trouble
    a shell (a certificate number has ``/``, a person id may have anything) becomes ``_``."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name) + ".pdf"
