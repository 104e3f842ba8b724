"""``amnesty profile init|check|show``: a jurisdiction's registry profile as a file.

``init`` writes a commented skeleton, ``check`` reads a file and prints every problem at
file:line:column (exit 1) or what it declares, ``show`` prints a shipped or a file
profile in its normalised form (defaults written out), with its content hash and the
facts a decree for it may use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from amnesty.cli.app import FormatOption, group
from amnesty.cli.output import Format, console, emit_rows, to_json
from amnesty.decree.facts import catalogue
from amnesty.errors import ConfigError
from amnesty.registry.profiles import SUFFIX, Profile, get_profile, load_profile_file
from amnesty.registry.profiles.files import skeleton, to_toml

profile_app = group("profile", "Registry profiles: a jurisdiction declared in a TOML file.")

PLAIN: dict[str, Any] = {"markup": False, "highlight": False}


@profile_app.command("init")
def init_command(
    name: Annotated[str, typer.Argument(help="The profile's name, e.g. xx-2020.")],
    out: Annotated[
        Path | None, typer.Option("--out", help=f"File to write; default NAME{SUFFIX}.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented skeleton profile to edit, then check."""
    path = out or Path(f"{name}{SUFFIX}")
    if path.exists() and not force:
        raise ConfigError(f"{path} exists; pass --force to overwrite it")
    text = skeleton(name, str(path))
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the profile: {exc.strerror}") from None
    load_profile_file(path)  # the skeleton itself must pass its own check
    console().print(f"Wrote {path}; edit it, then: amnesty profile check {path}", **PLAIN)


@profile_app.command("check")
def check_command(
    file: Annotated[Path, typer.Argument(help="A profile file.")],
    fmt: FormatOption = Format.table,
) -> None:
    """Check a profile file: every problem at file:line:column, or what it declares."""
    profile = load_profile_file(file)
    summary = _summary(profile)
    if fmt in (Format.json, Format.jsonl):
        print(to_json({"ok": True, **summary}))
        return
    console().print(f"{file}: profile {profile.name} is well-formed.", **PLAIN)
    for key, value in summary.items():
        if key != "name":
            console().print(f"  {key}: {_cell(value)}", **PLAIN)


@profile_app.command("show")
def show_command(
    ref: Annotated[str, typer.Argument(help="A shipped profile's name or a profile file.")],
    fmt: FormatOption = Format.table,
) -> None:
    """Print a profile in its normalised form, its content hash and the facts it provides."""
    profile = get_profile(ref)
    facts = [
        {"fact": f.name, "type": f.type, "unknown when": f.unknown, "values": f.values}
        for f in catalogue(profile).values()
    ]
    if fmt in (Format.json, Format.jsonl):
        print(
            to_json(
                {
                    "source": profile.source,
                    "content_hash": profile.content_hash,
                    "profile": profile.document(),
                    "sensitive": list(profile.sensitive),
                    "facts": facts,
                }
            )
        )
        return
    if fmt is Format.csv:
        emit_rows(facts, fmt)
        return
    out = console()
    out.print(f"# profile {profile.name} ({profile.source})", **PLAIN)
    out.print(f"# content hash {profile.content_hash}", **PLAIN)
    out.print(to_toml(profile.document()), **PLAIN)
    emit_rows(facts, fmt, title=f"Facts a decree for {profile.name} may use")


def _summary(p: Profile) -> dict[str, Any]:
    return {
        "name": p.name,
        "content_hash": p.content_hash,
        "authorities": list(p.authorities),
        "division_levels": list(p.division_levels),
        "province_levels": list(p.province_levels),
        "facility_types": list(p.facility_types),
        "offence_categories": list(p.offence_categories),
        "attributes": {
            t: [c.name for c in p.attributes(t)]
            for t in ("persons", "convictions", "facilities", "offences", "events")
            if p.attributes(t)
        },
        "sensitive": list(p.sensitive),
    }


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {', '.join(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list):
        return ", ".join(value) or "none"
    return str(value)
