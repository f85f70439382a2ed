"""classy's input and lifecycle methods: ``set``, ``compute``, ``empty``, ``struct_cleanup``."""

from __future__ import annotations

import numpy as np

from ..classy_pt import check_request
from ..errors import CosmoComputationError, CosmoSevereError, NotImplementedOutputError
from ..params import Request, from_class_dict
from ._base import IMPLEMENTED_OUTPUTS


class LifecycleMixin:
    """Parameters in, pipeline run, results kept (classy 3.4: accessors compute on demand)."""

    def __init__(self, default: bool = False, precision: str = "default"):
        self._pars: dict = {}
        self._precision = precision
        self._res = None
        self._pk = None
        self._pt = None
        self._request: Request | None = None
        self.state = False

    # ----------------------------------------------------------------- input / lifecycle
    @property
    def pars(self) -> dict:
        return self._pars

    def set(self, *pars, **kars) -> bool:
        """Add parameters: dicts and/or keyword arguments (CLASS names). Returns True like classy."""
        for d in pars:
            if not isinstance(d, dict):
                raise CosmoSevereError(f"Class.set expects dicts of CLASS parameters, got {type(d).__name__}")
            self._pars.update(d)
        self._pars.update(kars)
        self.state = False
        return True

    def set_default(self) -> None:
        self._pars = {}
        self.state = False

    def empty(self) -> None:
        """Forget all parameters and results."""
        self._pars = {}
        self.struct_cleanup()

    def struct_cleanup(self) -> None:
        """Free the computed results (parameters are kept)."""
        self._res = None
        self._pk = None
        self._pt = None
        self.state = False

    def compute(self, level=None) -> None:
        """Parse the parameters (CLASS rules) and run the pipeline. Raises CosmoSevereError for unknown or
        contradictory input, NotImplementedOutputError for outputs boltzax does not compute yet."""
        if self.state:
            return
        params, request = from_class_dict(self._pars)
        missing = [o for o in request.output if o and o not in IMPLEMENTED_OUTPUTS]
        if missing:
            raise NotImplementedOutputError(
                f"Parameter 'output': {missing} not implemented in boltzax yet "
                "(C_l land with a later issue); use output='' or 'mPk'"
            )
        if request.non_linear not in ("none", "pt"):
            raise NotImplementedOutputError(f"Parameter 'non_linear' = '{request.non_linear}' not implemented yet")
        check_request(request)  # non linear = PT needs mPk (classy_pt)
        from ..pipeline import compute

        res = compute(params, self._precision)
        self._check_finite(res)
        self._pk = self._pt = None
        if "mPk" in request.output:
            self._pk = self._linear_power(res, request)
        self._res, self._request, self.state = res, request, True
        try:
            self._pt_compute()  # CLASS-PT's one-loop pieces (non linear = PT), classy_pt.PTMixin
        except Exception:
            self.state = False
            raise

    def _linear_power(self, res, request):
        from ..pipeline import linear_power
        from ..precision import get_precision

        z_max = max(request.z_max_pk, max(request.z_pk))
        nodes = {0.0, *(float(z) for z in request.z_pk)}
        if z_max > 0:  # a z grid for pk(k, z) between the requested redshifts (cubic in z)
            nodes |= {float(z) for z in np.linspace(0.0, z_max, 9)}
        lp = linear_power(res, get_precision(self._precision), tuple(sorted(nodes)), request.P_k_max)
        if not np.all(np.isfinite(np.asarray(lp.ln_T2_m))):
            raise CosmoComputationError("non-finite linear power spectrum")
        return lp

    @staticmethod
    def _check_finite(res) -> None:
        from ..thermo.thermodynamics import check_thermodynamics, derived_parameters

        if not np.all(np.isfinite(np.asarray(res.background.H_table))):
            raise CosmoComputationError("non-finite background: check the input ranges")
        check_thermodynamics(res.thermo)
        bad = [k for k, v in derived_parameters(res.thermo).items() if not np.isfinite(v)]
        if bad:
            raise CosmoComputationError(f"non-finite derived parameters {bad}: check the input ranges")

    def _r(self):
        if not self.state:
            self.compute()
        return self._res
