"""classy's non-linear power spectrum methods (``non_linear = halofit``): owned by the HaloFit issue.  Until it
lands, ``nonlinear_scale`` and ``nonlinear_scale_cb`` raise `NotImplementedOutputError` naming the method."""

from __future__ import annotations

from ._base import CallableFloat, _not_yet

# CLASS enum non_linear_method (include/fourier.h): nl_none, nl_halofit, nl_HMcode
NONLINEAR_METHODS = {"none": 0, "halofit": 1, "hmcode": 2}


class NonlinearMixin:
    @property
    def nonlinear_method(self):
        """The non-linear method as CLASS's enum integer (0 none, 1 halofit, 2 HMcode)."""
        self._r()
        return CallableFloat(NONLINEAR_METHODS.get(self._request.non_linear, -1))

    nonlinear_scale = _not_yet("nonlinear_scale", "non_linear = halofit, issue 'HaloFit'")
    nonlinear_scale_cb = _not_yet("nonlinear_scale_cb", "non_linear = halofit, issue 'HaloFit'")
