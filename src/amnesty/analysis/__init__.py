"""Analysis: what-if variants, reports, transparency figures, comparisons.

Every function returns plain JSON-ready data, in the shape the server serves::

    diff_variants(db, decree_path, [variant_path, ...])  # one query for all variants
    diff_decrees(db, path_a, path_b)
    diff_runs(db, run_a, run_b)
    run_report(db, run_id)             # figures, clause statistics
    transparency_report(db, run_id)    # no personal data, small counts suppressed
    compare_runs(db, run_a, run_b)     # two runs side by side
    render(report, "html" | "pdf" | "md" | "xlsx") -> bytes
"""

from __future__ import annotations

from amnesty.analysis.clause_stats import clause_stats
from amnesty.analysis.compare import compare_runs
from amnesty.analysis.diff import decide_together, diff_decrees, diff_runs, diff_variants
from amnesty.analysis.render import render
from amnesty.analysis.report import run_report, transparency_report
from amnesty.analysis.suppression import DEFAULT_THRESHOLD

__all__ = [
    "DEFAULT_THRESHOLD",
    "clause_stats",
    "compare_runs",
    "decide_together",
    "diff_decrees",
    "diff_runs",
    "diff_variants",
    "render",
    "run_report",
    "transparency_report",
]
