"""Evaluation appendices: HTML, DOCX, XLSX and figures, in Japanese or English.

The report renders what a run computed (results, sample flows, payment) and never estimates
anything. It does not import :mod:`pfseval.batch`: a batch run calls :func:`write_report`
with its run (anything with the attributes of :class:`EvaluationRun`), and designs are known
through the registry (:mod:`pfseval.designs.contract`) and their ``results.json`` records.
Published outputs pass through :mod:`pfseval.report.disclosure`: no person ids, no
individual values, counts under the minimum cell size suppressed.
"""

from __future__ import annotations

from pathlib import Path

from pfseval.report.disclosure import flow_table, format_count, suppress_linked
from pfseval.report.document import Document, EvaluationRun, build_document
from pfseval.report.writers import (
    write_docx,
    write_figures,
    write_html,
    write_pdf,
    write_xlsx,
)

__all__ = [
    "Document",
    "EvaluationRun",
    "build_document",
    "flow_table",
    "format_count",
    "suppress_linked",
    "write_docx",
    "write_figures",
    "write_html",
    "write_pdf",
    "write_report",
    "write_xlsx",
]


def write_report(run: EvaluationRun, folder: str | Path) -> dict[str, Path]:
    """Write ``appendix.html``, ``appendix.pdf``, ``appendix.docx``, ``tables.xlsx``, ``figures/``
    and ``results_public.json`` (what they show, as data) into a folder.

    Parameters
    ----------
    run
        From :func:`pfseval.batch.run_spec`.
    folder
        An existing folder (the batch writer passes its temporary folder).

    Returns
    -------
    dict
        Output name → path.
    """
    f = Path(folder)
    doc = build_document(run)
    out = {
        "html": write_html(doc, f / "appendix.html"),
        "pdf": write_pdf(doc, f / "appendix.pdf"),
        "docx": write_docx(doc, f / "appendix.docx"),
        "xlsx": write_xlsx(doc, f / "tables.xlsx"),
    }
    out.update(write_figures(doc, f / "figures"))
    from pfseval.report.public import write_public  # what the appendix shows, as data

    out["public"] = write_public(doc, f / "results_public.json")
    return out
