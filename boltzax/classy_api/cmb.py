"""classy's CMB methods (``raw_cl``, ``lensed_cl``, ``density_cl``, ``get_sources``): owned by the CMB issue;
until it lands they raise `NotImplementedOutputError` naming the method."""

from __future__ import annotations

from ._base import _not_yet


class CMBMixin:
    raw_cl = _not_yet("raw_cl", "CMB spectra, issue 'CMB C_l'")
    lensed_cl = _not_yet("lensed_cl", "CMB spectra, issue 'CMB C_l'")
    density_cl = _not_yet("density_cl", "not planned yet")
    get_sources = _not_yet("get_sources", "CMB sources, issue 'CMB C_l'")
