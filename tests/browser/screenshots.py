"""Screenshots of the web UI's main pages for docs/screenshots/, taken from a real server.

    uv run python tests/browser/screenshots.py [--out docs/screenshots] [--persons 3000]

Runs ``amnesty demo``'s library half (both 2015 rounds on a generated kp-2015
registry, with reviews, rosters, releases and certificates) in a temporary
folder, serves it as the end-to-end test does (uvicorn in a thread, the
distribution's Chromium), signs in as the demo's users with the passwords the
demo wrote, and photographs dashboard, determinations, person, review, roster
and audit pages, plus the dashboard in the registry's language (Korean).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from conftest import ARGS, CHROMIUM, Served  # noqa: E402

VIEWPORT = {"width": 1280, "height": 860}


def _cjk_fonts(workdir: Path) -> dict[str, str]:
    """Fontconfig for Chromium that adds the Noto Sans CJK font amnesty's certificates use
    (a wheel), so the registry's Hangul renders without installing system fonts."""
    from amnesty.workflow.certificates import font_dir

    conf = workdir / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"  <dir>{font_dir()}</dir>\n  <cachedir>{workdir / 'fontcache'}</cachedir>\n"
        "</fontconfig>\n",
        encoding="utf-8",
    )
    return {"FONTCONFIG_FILE": str(conf)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE.parent.parent / "docs" / "screenshots")
    parser.add_argument("--persons", type=int, default=3000)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from amnesty.demo import run_demo
    from amnesty.server.app import create_app
    from amnesty.store.database import Database
    from amnesty.workflow.batches import roster_people
    from amnesty.workflow.review import review_queue
    from amnesty.workflow.rosters import list_rosters
    from amnesty.workflow.users import add_user

    workdir = Path(tempfile.mkdtemp(prefix="amnesty-screens-"))
    report = run_demo(workdir, persons=args.persons, say=print)
    assert report.passwords is not None
    passwords = dict(
        line.split("\t", 1) for line in report.passwords.read_text().splitlines() if line
    )
    db = Database.open(report.db)
    passwords["auditor"] = secrets.token_urlsafe(12)
    add_user(db, "auditor", ["auditor"], actor="admin", password=passwords["auditor"])
    run = report.runs[1].run.run_id
    roster = next(r for r in list_rosters(db, run) if r.status == "approved")
    # a referred case shows the clause-by-clause explanation at its most telling
    cases = review_queue(db, run)
    fallback = roster_people(db, roster.roster_id)[0]["person_id"]
    person = cases[0].person_id if cases else str(fallback)
    args.out.mkdir(parents=True, exist_ok=True)
    app = create_app(db)
    app.state.certificate_dir = workdir / "web-certificates"

    with Served(app) as served, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=ARGS, env={**os.environ, **_cjk_fonts(workdir)}
        )

        def signed_in(name: str):  # type: ignore[no-untyped-def]
            context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
            page = context.new_page()
            page.goto(served.url + "/login")
            page.get_by_label("User name").fill(name)
            page.get_by_label("Password").fill(passwords[name])
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(served.url + "/")
            return page

        def shoot(page, path: str, name: str) -> None:  # type: ignore[no-untyped-def]
            page.goto(served.url + path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(args.out / f"{name}.png"))
            print(f"{args.out / name}.png  <- {path}")

        reviewer = signed_in("reviewer-kim")
        shoot(reviewer, f"/?run={run}", "dashboard")
        shoot(reviewer, f"/?run={run}&lang=ko", "dashboard-ko")
        shoot(reviewer, f"/determinations?run={run}&outcome=eligible&lang=en", "determinations")
        shoot(reviewer, f"/persons/{person}?run={run}", "person")
        shoot(reviewer, f"/review?run={run}&state=open", "review")
        approver = signed_in("approver-pak")
        shoot(approver, f"/rosters/{roster.roster_id}", "roster")
        auditor = signed_in("auditor")
        auditor.goto(served.url + "/audit")
        auditor.get_by_role("button", name="Verify the chain").click()
        auditor.locator("[data-verify]").wait_for(timeout=300_000)
        auditor.screenshot(path=str(args.out / "audit.png"))
        print(f"{args.out / 'audit'}.png  <- /audit (verified)")
        browser.close()


if __name__ == "__main__":
    main()
