"""Case-work command groups, one small module each, registered by importing them here.

A new group (``review``, ``roster``, ``release``, ``certificate``) is a module
beside these that calls :func:`amnesty.cli.app.group`; add its import below.
"""

from __future__ import annotations

from amnesty.cli import runs, users

__all__ = ["runs", "users"]
