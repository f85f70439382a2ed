"""classy's ``get_perturbations`` (per-k time series, ``k_output_values``)."""

from __future__ import annotations

from ._base import _not_yet


class PerturbationsMixin:
    get_perturbations = _not_yet("get_perturbations", "issue 5")
