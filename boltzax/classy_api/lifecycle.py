"""classy's input and lifecycle methods: ``set``, ``compute``, ``empty``, ``struct_cleanup``."""

from __future__ import annotations

import numpy as np

from ..classy_pt import check_request
from ..errors import CosmoComputationError, CosmoSevereError, NotImplementedOutputError
from ..params import Request, from_class_dict
from ._base import IMPLEMENTED_OUTPUTS


class LifecycleMixin:
    """Parameters in, pipeline run, results kept (classy 3.4: accessors compute on demand)."""

    # classy's computation levels (classy.pyx _levellist); compute(level) accepts these names
    _levellist = ["input", "background", "thermodynamics", "perturbations", "primordial", "fourier", "transfer",
                  "harmonic", "lensing", "distortions"]

    def __init__(self, default: bool = False, precision: str = "default", unread: str = "error"):
        """``precision``: a boltzax preset (fast, default, high).  ``unread``: input names CLASS would not read
        for the given input raise CosmoSevereError ("error", classy's rule), warn ("warn", the class
        executable's rule, used by ``boltzax run``) or are ignored ("ignore")."""
        from ..precision import get_precision

        get_precision(precision)  # an unknown preset name fails here, naming it
        self._pars: dict = {}
        self._precision_preset = precision
        self._precision = precision  # the preset with the honoured CLASS precision parameters (at compute)
        self._res = None
        self._pk = None
        self._pt = None
        self._request: Request | None = None
        self._computed = False
        self._unread = unread
        if default:
            self.set_default()

    # ----------------------------------------------------------------- input / lifecycle
    @property
    def pars(self) -> dict:
        """The parameters set so far (classy: the dict itself)."""
        return self._pars

    @property
    def state(self) -> bool:
        """classy 3.4's ``state`` (always True there: computation is lazy)."""
        return True

    def set(self, *pars, **kars):
        """Add parameters (one dict and/or keyword arguments, CLASS names), accumulating over calls, as classy:
        returns True, or None when nothing changed (then computed results are kept)."""
        old = dict(self._pars)
        if len(pars) == 1:
            try:
                self._pars.update(dict(pars[0]))
            except (TypeError, ValueError):
                raise CosmoSevereError(f"Class.set expects a dict of CLASS parameters, got "
                                       f"{type(pars[0]).__name__}") from None
        elif len(pars) != 0:
            raise CosmoSevereError("bad call: Class.set takes one dict and/or keyword arguments")
        self._pars.update(kars)
        if all(k in old and _same(old[k], v) for k, v in self._pars.items()):
            return None
        self._computed = False
        return True

    def set_default(self) -> None:
        """classy's default request: output = tCl mPk."""
        self.set(output="tCl mPk")

    def set_baseline(self, baseline_name: str) -> None:
        """classy's predefined Planck 2018 settings: 'p18lb' (TTTEEE+lens+BAO), 'p18l' (TTTEEE+lens), 'p18'
        (TTTEEE), or names containing 'planck', '18' (, 'lens' (, 'bao')), with classy.pyx's values.
        They request C_l and (p18l, p18lb) HaloFit, computed once those outputs are implemented."""
        from .baselines import baseline

        self.set(baseline(baseline_name))

    def empty(self) -> None:
        """Forget all parameters and results."""
        self._pars = {}
        self.struct_cleanup()

    def struct_cleanup(self) -> None:
        """Free the computed results (parameters are kept)."""
        self._res = None
        self._pk = None
        self._pt = None
        self._computed = False

    def compute(self, level=("distortions",)) -> None:
        """Parse the parameters (CLASS rules) and run the pipeline. Raises CosmoSevereError for unknown or
        contradictory input, NotImplementedOutputError for outputs boltzax does not compute yet.  ``level``
        (classy's list of last modules) is checked and otherwise ignored: boltzax computes what 'output' asks."""
        for item in [level] if isinstance(level, str) else list(level):
            if item not in self._levellist:
                raise CosmoSevereError(f"Unknown computation level: '{item}'")
        if self._computed:
            return
        from ..class_inputs import apply_precision
        from ..precision import get_precision

        params, request = from_class_dict(self._pars, self._unread)
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

        self._precision = apply_precision(get_precision(self._precision_preset), request.class_precision)
        res = compute(params, self._precision)
        self._check_finite(res)
        self._pk = self._pt = None
        if "mPk" in request.output:
            self._pk = self._linear_power(res, request)
        self._res, self._request, self._computed = res, request, True
        try:
            self._pt_compute()  # CLASS-PT's one-loop pieces (non linear = PT), classy_pt.PTMixin
        except Exception:
            self._computed = False
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
        """The results, computing them first if needed (classy 3.4's lazy execution)."""
        if not self._computed:
            self.compute()
        return self._res


def _same(a, b) -> bool:
    try:
        return bool(a == b)
    except Exception:  # arrays
        return a is b
