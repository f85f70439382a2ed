"""classy's non-linear power spectrum methods (``non_linear = halofit``): owned by the HaloFit issue."""

from __future__ import annotations


class NonlinearMixin:
    pass
