"""classy's input and lifecycle methods: ``set``, ``compute``, ``empty``, ``struct_cleanup``."""

from __future__ import annotations

import numpy as np

from ..classy_pt import check_request
from ..errors import CosmoComputationError, CosmoSevereError, NotImplementedOutputError
from ..params import RANGES, Request, from_class_dict
from ..status import ROOT_RTOL  # tolerances of the input root solves as seen from the outputs
from ._base import IMPLEMENTED_OUTPUTS
from .nonlinear import check_nonlinear_request


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
        self._cl = None  # CMB spectra and sources (cmb.cmb_spectra), with a C_l output
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
        self._cl = None
        self._nl_cache = None
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
        from .. import aot
        from ..class_inputs import apply_precision
        from ..precision import get_precision

        if aot.compiled_since_last_check():  # a long run over many cosmology structures: bounded mappings
            aot.release_if_crowded()

        params, request = from_class_dict(self._pars, self._unread, amplitude_from_sigma8=True)
        if request.amplitude_target and "mPk" not in request.output:
            raise CosmoSevereError(f"Parameter '{request.amplitude_target[0]}' as an input needs the matter power "
                                   "spectrum: add 'mPk' to 'output'")
        missing = [o for o in request.output if o and o not in IMPLEMENTED_OUTPUTS]
        if missing:
            raise NotImplementedOutputError(
                f"Parameter 'output': {missing} not implemented in boltzax yet; implemented: "
                f"{sorted(IMPLEMENTED_OUTPUTS)}"
            )
        _check_cmb_request(request)
        check_nonlinear_request(request)  # halofit and hmcode need mPk (classy_api.nonlinear)
        if request.non_linear not in ("none", "pt", "halofit", "hmcode"):
            raise NotImplementedOutputError(f"Parameter 'non_linear' = '{request.non_linear}' not implemented yet")
        check_request(request)  # non linear = PT needs mPk (classy_pt)
        from ..pipeline import compute

        self._precision = apply_precision(get_precision(self._precision_preset), request.class_precision)
        self._pk = self._pt = self._cl = None
        try:
            res = compute(params, self._precision)
            self._check_finite(res)
            _check_roots(params, res)
            if "mPk" in request.output:
                self._pk = self._linear_power(res, request)
                if request.amplitude_target:
                    res, self._pk = _meet_amplitude(res, self._pk, request.amplitude_target)
            if any(o in request.output for o in ("tCl", "pCl", "lCl")):
                self._cl = _cmb_compute(res, self._precision, request)
        except CosmoComputationError as e:
            self._pk = self._cl = None
            raise _with_cosmology(e, params) from None
        self._nl_reset()  # HaloFit states are computed on demand (classy_api.nonlinear)
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
        k_max = self._nl_linear_k_max(res, request)  # HaloFit: CLASS's k_last >= 5 /Mpc (classy_api.nonlinear)
        lp = linear_power(res, get_precision(self._precision), tuple(sorted(nodes)), k_max)
        for name, tab in (("P_m", lp.ln_T2_m), ("P_cb", lp.ln_T2_cb)):
            bad = ~np.isfinite(np.asarray(tab))
            if np.any(bad):
                i, j = np.argwhere(bad)[0]
                raise CosmoComputationError(
                    f"non-finite linear power spectrum {name}(k, z) at k = {float(lp.k[i]):.4g} 1/Mpc, z = "
                    f"{float(lp.z[j]):.4g} ({int(bad.sum())} of {bad.size} table entries): the perturbation "
                    f"integration left its valid range for k in [{float(lp.k[0]):.4g}, {float(lp.k[-1]):.4g}] 1/Mpc")
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


def _with_cosmology(e: CosmoComputationError, params) -> CosmoComputationError:
    """The same error with the cosmology's parameters appended (CLASS names), once."""
    from ..status import cosmology_summary

    msg = str(e)
    if "cosmology:" not in msg:
        msg = f"{msg} (cosmology: {cosmology_summary(params)})"
    return type(e)(msg)


def _meet_amplitude(res, lp, target):
    """A_s such that sigma8 (or S8 = sigma8 sqrt(Omega_m / 0.3)) equals the input (CLASS input.c shoots on A_s
    with this guess-and-rescale rule, then iterates).  Linear P(k) is proportional to A_s and nothing else
    computed depends on it, so one rescaling A_s -> A_s (target / value)^2 is exact: results and P(k) tables
    are updated in place of a second solve."""
    import equinox as eqx

    from ..background import derived_densities

    name, want = target
    h = float(res.params.h)
    got = float(lp.sigma(8.0 / h))
    if name == "S8":
        got *= float(np.sqrt(float(derived_densities(res.params)["Omega0_m"]) / 0.3))
    A_s = float(res.params.A_s) * (want / got) ** 2
    lo, hi = RANGES["A_s"]
    if not (np.isfinite(A_s) and lo <= A_s <= hi):
        raise CosmoComputationError(f"input '{name}' = {want} needs A_s = {A_s:.4g} ({name} = {got:.4g} at A_s = "
                                    f"{float(res.params.A_s):.4g}), outside the allowed range [{lo}, {hi}] of 'A_s'")
    params = res.params.replace(A_s=res.params.A_s * (want / got) ** 2)
    return eqx.tree_at(lambda r: r.params, res, params), eqx.tree_at(lambda t: t.params, lp, params)


def _check_cmb_request(request) -> None:
    """CLASS's rules for C_l requests (input.c), and what boltzax does not compute yet."""
    has_cl = any(o in request.output for o in ("tCl", "pCl", "lCl"))
    if request.lensing and not (has_cl and "s" in request.modes and "lCl" in request.output
                                and ("tCl" in request.output or "pCl" in request.output)):
        raise CosmoSevereError("Parameter 'lensing' = yes: lensed CMB C_l need 'modes' with 's' and 'output' with "
                               "'tCl' and/or 'pCl', and 'lCl' (CLASS input.c)")
    if has_cl and any(m not in ("s", "t") for m in request.modes):
        raise NotImplementedOutputError(f"Parameter 'modes' = {','.join(request.modes)}: vector C_l are not "
                                        "implemented in boltzax yet (modes = s, t or s,t)")


def _cmb_compute(res, precision, request) -> dict:
    """CMB spectra for 'output' with tCl/pCl/lCl (boltzax.cmb.cmb_spectra): unlensed to l_max_scalars (+
    delta_l_max with lensing), lensed to l_max_scalars; kept on the device until asked for."""
    from ..cmb import cmb_spectra

    if "t" in request.modes:
        return _cmb_compute_with_tensors(res, precision, request)
    nl_corr = None
    if request.non_linear in ("halofit", "hmcode") and "lCl" in request.output:
        # CLASS: the lensing source phi + psi times sqrt(P_nl / P_lin) (classy_api.nonlinear_lensing)
        from ..cmb import unlensed_l_max
        from .nonlinear_lensing import nl_corr_phi_plus_psi, nonlinear_source_precision

        precision = nonlinear_source_precision(precision, request)  # the k list to max(P_k_max, 5 /Mpc)
        l_unl = unlensed_l_max(request.l_max_scalars, precision, request.lensing)
        nl_corr = nl_corr_phi_plus_psi(res, precision, request, l_unl)
    out = cmb_spectra(res, precision, request.l_max_scalars, request.lensing, nl_corr=nl_corr)
    if not bool(out["grids_ok"]):
        raise CosmoComputationError("CMB C_l: the static line-of-sight grids (sized from boltzax.cmb."
                                    "SIZING_COSMOLOGIES) are too small for this cosmology")
    if not np.all(np.isfinite(np.asarray(out["unlensed"]["tt"]))):
        raise CosmoComputationError("non-finite CMB C_l: check the input ranges")
    return out


def _cmb_compute_with_tensors(res, precision, request) -> dict:
    """modes = t or s,t (boltzax.cmb_tensors): raw C_l = scalar + tensor C_l, each up to its own l_max (CLASS
    harmonic_cl_at_l sums the modes with l <= their l_max); with lensing CLASS lenses that total (lensing.c reads
    harmonic_cl_at_l), so the lensed spectra are recomputed from the sum."""
    import jax.numpy as jnp

    from ..cmb import CL_KEYS, cmb_spectra, lensing_precision, static_grid_sizes, unlensed_l_max
    from ..cmb_tensors import tensor_cl
    from ..lensing import lensed_cl

    has_s = "s" in request.modes
    l_t = int(request.l_max_tensors)
    ten = tensor_cl(res, precision, l_t, int(request.l_max_scalars) if has_s else None)
    if not bool(ten["grids_ok"]) or not np.all(np.isfinite(np.asarray(ten["bb"]))):
        raise CosmoComputationError("tensor C_l: the static grids (boltzax.cmb_tensors.static_tensor_sizes) are "
                                    "too small for this cosmology, or the tensor solve failed")
    out = cmb_spectra(res, precision, request.l_max_scalars, request.lensing) if has_s else {"grids_ok": True}
    if has_s and not bool(out["grids_ok"]):
        raise CosmoComputationError("CMB C_l: the static line-of-sight grids (sized from boltzax.cmb."
                                    "SIZING_COSMOLOGIES) are too small for this cosmology")
    scal = out.get("unlensed", {})
    n = max(len(scal["tt"]) if has_s else 0, l_t + 1)

    def padded(v):
        return jnp.zeros(n).at[: v.shape[0]].set(v)

    unl = {"ell": jnp.arange(n)}
    for key in CL_KEYS:
        v = padded(scal[key]) if has_s else jnp.zeros(n)
        unl[key] = v + padded(ten[key]) if key in ten else v
    out = dict(out, unlensed=unl, tensor=ten)
    if has_s and request.lensing:
        l_unl = unlensed_l_max(request.l_max_scalars, precision, True)
        sizes = static_grid_sizes(precision, l_unl)
        total = {k: v[: l_unl + 1] for k, v in unl.items()}
        out["lensed"] = lensed_cl(total, int(request.l_max_scalars), lensing_precision(precision), l_nodes=sizes.ls)
    if not np.all(np.isfinite(np.asarray(unl["tt"]))):
        raise CosmoComputationError("non-finite CMB C_l: check the input ranges")
    return out



def _check_roots(params, res) -> None:
    """CosmoComputationError when an input fixed by a root solve (100*theta_s -> h, tau_reio -> z_reio) is not
    met by the computed cosmology: the solve did not converge (throw=False inside jit)."""
    from ..thermo.thermodynamics import derived_parameters

    th = derived_parameters(res.thermo)
    checks = []
    if params.h_from_theta_s:
        checks.append(("100*theta_s", float(params.theta_s_100), th["100*theta_s"], "h", float(res.params.h)))
    if params.reio_from_tau and params.reionization == "camb":
        checks.append(("tau_reio", float(params.tau_reio), th["tau_reio"], "z_reio", th["z_reio"]))
    for name, want, got, unknown, at in checks:
        lo, hi = RANGES[unknown]
        if not abs(got - want) <= ROOT_RTOL[name] * abs(want):
            raise CosmoComputationError(f"the root solve for input '{name}' = {want} did not converge: got {got} at "
                                        f"{unknown} = {at:.6g} (the solve looks for {unknown} in its allowed range "
                                        f"[{lo}, {hi}]; h = {float(res.params.h):.6g}, omega_b = "
                                        f"{float(params.omega_b):.6g}, omega_cdm = {float(params.omega_cdm):.6g})")
        if not lo <= at <= hi:
            raise CosmoComputationError(f"input '{name}' = {want} is met at {unknown} = {at:.6g}, outside the allowed "
                                        f"range [{lo}, {hi}] of '{unknown}'")


def _same(a, b) -> bool:
    try:
        return bool(a == b)
    except Exception:  # arrays
        return a is b
