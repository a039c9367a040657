"""Statistical disclosure control for one publication: cells, relations, suppression, audit.

A publication (an appendix with its tables, figures and ``results_public.json``) shows numbers
that come from counts of people. This package models them the way cell-suppression methods do
(de Wolf's τ-ARGUS, R's sdcTable and GaussSuppression):

- a **cell** is a count of people (``Cell``), sensitive or not;
- a **relation** ties cells together and to other published numbers: sums and differences
  (a flow step: before = excluded + remaining), degrees of freedom (df = n − 1), rates and means
  of two-valued variables shown to some precision (a / b within half a unit of the last digit),
  the limits of a proportion's confidence interval;
- **primary suppression** hides counts 1 … min_cell − 1 (0 is shown);
- **secondary suppression** hides further cells until the **auditor** — linear programming over
  every published relation of the whole publication at once — finds, for every hidden cell, an
  interval of feasible values at least as wide as the protection level.

The model works on numbers, not on text: reports register what they publish and render what
:func:`protect` decides.
"""

from pfseval.sdc.audit import AuditFinding, audit
from pfseval.sdc.model import Cell, Publication
from pfseval.sdc.suppress import Decision, protect

__all__ = ["AuditFinding", "Cell", "Decision", "Publication", "audit", "protect"]
