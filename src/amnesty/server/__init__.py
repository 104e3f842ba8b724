"""``amnesty serve``: the JSON API (``/api``) and the web pages, over one database handle.

The server is a layer above the workflow: every route calls the same workflow
functions the CLI calls, acting as the authenticated principal (never as a name
the client sends). Who may call what is declared once per route
(:mod:`amnesty.server.policy`); errors are RFC 9457 problem details
(:mod:`amnesty.server.problems`). See docs/server.md.
"""
