"""``amnesty registry ...``: generate, import and show a prison registry."""

from __future__ import annotations

from amnesty.cli.app import group

registry_app = group("registry", "Generate, import and inspect a prison registry.")
