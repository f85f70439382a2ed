"""Cosmological parameters: one pytree of traced physics parameters, built from CLASS input names.

`CosmoParams` is an ``equinox.Module``. Its float fields are traced (``jit``/``grad``/``vmap`` see them);
the fields marked static describe the *structure* of the model (number of ncdm species, which density
closes the budget, which parameter is an input and which is derived) and must be equal across a ``vmap``.

`from_class_dict` reads a dict of CLASS input names (values as numbers or strings, as classy accepts)
with CLASS v3.4.1's defaults and closure rules (``source/input.c``: ``input_read_parameters_*`` and
``input_default_params``), and returns ``(CosmoParams, Request)``. `Request` holds the non-physics
settings (``output``, ``l_max_scalars``, ``P_k_max_1/Mpc``, ``z_pk`` ...): static, host-side.

Everything is in CLASS's units: densities as omega = Omega h^2 or Omega, masses in eV, k in 1/Mpc.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .errors import CosmoSevereError, NotImplementedOutputError
from .params_pt import PTOptions, _pt_options  # noqa: F401  (CLASS-PT's options of non linear = PT)

# CLASS v3.4.1 defaults (source/input.c, input_default_params)
CLASS_DEFAULTS = dict(
    h=0.67810,
    omega_b=0.02238280,
    omega_cdm=0.1201075,
    T_cmb=2.7255,
    N_ur=3.044,
    A_s=2.100549e-09,
    n_s=0.9660499,
    alpha_s=0.0,
    k_pivot=0.05,
    tau_reio=0.05430842,
    z_reio=7.6711,  # used only when z_reio is the input
    Omega_k=0.0,
    w0_fld=-1.0,
    wa_fld=0.0,
    cs2_fld=1.0,
    r=1.0,
    n_t=0.0,  # CLASS default n_t = scc (single-field consistency), set in from_class_dict
    T_ncdm=0.71611,  # in units of T_cmb; gives m/omega = 93.14 eV
    deg_ncdm=1.0,
)

# Planck 2018 best fit (TT,TE,EE+lowE+lensing, base_2018_plikHM_TTTEEE_lowl_lowE_lensing) with one
# massive neutrino of 0.06 eV; N_ur = 2.0328 gives N_eff = 3.044 with CLASS's T_ncdm.
PLANCK18 = {
    "h": 0.6732117,
    "omega_b": 0.02238280,
    "omega_cdm": 0.1201075,
    "ln10^{10}A_s": 3.044784,
    "n_s": 0.9660499,
    "tau_reio": 0.05430842,
    "N_ur": 2.0328,
    "N_ncdm": 1,
    "m_ncdm": 0.06,
}

# Parameters that fix structure or outputs, not physics.
_REQUEST_KEYS = {
    "output", "lensing", "modes", "l_max_scalars", "l_max_tensors", "P_k_max_1/Mpc", "P_k_max_h/Mpc",
    "z_pk", "z_max_pk", "non_linear", "non linear", "recombination", "reio_parametrization",
    "k_output_values", "gauge", "get_perturbations_in_current_gauge",
    "IR resummation", "Bias tracers", "RSD", "AP", "Omfid", "cb", "PNG", "FFTLog mode", "Input Pk",
    "no-wiggle", "alpha_rs", "PT_k_max_h/Mpc",
    # HMcode (non_linear = hmcode; CLASS input.c input_read_parameters_nonlinear) and the no-wiggle spectra
    "hmcode_version", "HMcode_version", "hmcode version", "eta_0", "c_min", "feedback_model", "feedback model",
    "log10T_heat_hmcode", "z_infinity", "nk_wiggle", "extrapolation_method", "hmcode_min_k_max",
    "numerical_nowiggle", "analytic_nowiggle",
}
_PHYSICS_KEYS = {
    "h", "H0", "100*theta_s", "omega_b", "Omega_b", "omega_cdm", "Omega_cdm", "A_s", "ln10^{10}A_s",
    "ln_A_s_1e10", "n_s", "alpha_s", "k_pivot", "tau_reio", "z_reio", "N_ur", "Omega_ur", "omega_ur", "N_ncdm",
    "m_ncdm", "T_ncdm", "deg_ncdm", "Omega_k", "Omega_Lambda", "Omega_fld", "w0_fld", "wa_fld",
    "cs2_fld", "YHe", "T_cmb", "r", "n_t", "alpha_t", "Neff", "use_ppf", "c_gamma_over_c_fld", "theta_s_100",
    "Omega_m", "omega_m", "sigma8", "S8",
}
KNOWN_KEYS = _REQUEST_KEYS | _PHYSICS_KEYS

# Allowed ranges (CLASS background.h/thermodynamics.h bounds where CLASS has them).
RANGES = {
    "h": (0.3, 1.5),  # _h_SMALL_, _h_BIG_
    "omega_b": (0.005, 0.039),  # _omegab_SMALL_, _omegab_BIG_
    "omega_cdm": (0.0, 1.0),
    "YHe": (0.01, 0.5),  # _YHE_SMALL_, _YHE_BIG_
    "T_cmb": (1.0, 5.0),
    "N_ur": (0.0, 20.0),
    "n_s": (0.5, 1.5),
    "A_s": (1e-11, 1e-7),
    "tau_reio": (0.0, 0.5),
    "z_reio": (0.0, 50.0),
    "Omega_k": (-0.5, 0.5),
    "m_ncdm": (0.0, 50.0),
    "100*theta_s": (0.5, 2.0),
    "Neff": (0.0, 20.0),
    "sigma8": (0.1, 3.0),
    "S8": (0.1, 3.0),
    "k_pivot": (1e-6, 10.0),
    "r": (0.0, 10.0),
    "w0_fld": (-5.0, 1.0 / 3.0),  # w = 1/3 or above is not dark energy
    "wa_fld": (-5.0, 5.0),
    "cs2_fld": (0.0, 1.0),
    "T_ncdm": (0.01, 10.0),  # in units of T_cmb
    "deg_ncdm": (1e-3, 100.0),
    "alpha_s": (-1.0, 1.0),
    "Omega_Lambda": (-1.0, 2.0),
    "Omega_fld": (-1.0, 2.0),
    "P_k_max_1/Mpc": (1e-3, 100.0),  # CLASS's own P(k) table reaches 1e-4/Mpc; boltzax validated to 5/Mpc
    "z_pk": (0.0, 1000.0),
    "z_max_pk": (0.0, 1000.0),
    "l_max_scalars": (2, 10000),
    "l_max_tensors": (2, 10000),
}


class CosmoParams(eqx.Module):
    """Traced cosmological parameters (CLASS names and units) plus static model structure.

    Densities: ``omega_b``, ``omega_cdm`` are physical (Omega h^2). ``Omega_k`` curvature today.
    ``Omega_Lambda``/``Omega_fld`` are only read for the species that is *not* the closure
    (see ``closure``). ``m_ncdm`` [eV], ``T_ncdm`` [T_cmb], ``deg_ncdm`` have one entry per species.
    ``YHe`` is ignored when ``YHe_from_bbn`` (then computed from the BBN table).
    ``h`` is ignored when ``h_from_theta_s`` (solved from ``theta_s_100``); ``tau_reio`` / ``z_reio``:
    the one not selected by ``reio_from_tau`` is derived.
    """

    h: Any
    omega_b: Any
    omega_cdm: Any
    Omega_k: Any
    Omega_Lambda: Any
    Omega_fld: Any
    A_s: Any
    n_s: Any
    alpha_s: Any
    k_pivot: Any
    tau_reio: Any
    z_reio: Any
    N_ur: Any
    T_cmb: Any
    YHe: Any
    m_ncdm: Any
    T_ncdm: Any
    deg_ncdm: Any
    w0_fld: Any
    wa_fld: Any
    cs2_fld: Any
    r: Any
    n_t: Any
    theta_s_100: Any
    alpha_t: Any = 0.0  # tensor running (CLASS default scc: r/8 (r/8 + n_s - 1), set in from_class_dict)
    # static structure
    closure: str = eqx.field(static=True, default="lambda")  # "lambda" or "fld"
    has_fld: bool = eqx.field(static=True, default=False)
    h_from_theta_s: bool = eqx.field(static=True, default=False)
    reio_from_tau: bool = eqx.field(static=True, default=True)
    YHe_from_bbn: bool = eqx.field(static=True, default=True)
    recombination: str = eqx.field(static=True, default="hyrec")  # "hyrec" or "recfast"
    reionization: str = eqx.field(static=True, default="camb")  # "camb" (tanh) or "none"

    @property
    def n_ncdm(self) -> int:
        return int(np.shape(self.m_ncdm)[0])

    @property
    def ln10_10_A_s(self):
        return jnp.log(1e10 * self.A_s)

    def replace(self, **kw) -> "CosmoParams":
        """Return a copy with fields replaced (traced values may be jax arrays)."""
        return dataclasses.replace(self, **kw)


@dataclasses.dataclass(frozen=True)
class Request:
    """What to compute (static, host side): CLASS's ``output`` and friends."""

    output: tuple[str, ...] = ()
    lensing: bool = False
    modes: tuple[str, ...] = ("s",)
    l_max_scalars: int = 2500
    l_max_tensors: int = 500
    P_k_max: float = 1.0  # 1/Mpc
    z_pk: tuple[float, ...] = (0.0,)
    z_max_pk: float = 0.0
    non_linear: str = "none"
    pt: "PTOptions | None" = None  # CLASS-PT options, set when non_linear == "pt"
    # CLASS precision parameters boltzax honours: ((stage, field, value), ...) (class_inputs.apply_precision)
    class_precision: tuple = ()
    # ('sigma8' or 'S8', value) when the amplitude is given through sigma8 (boltzax.Class rescales A_s)
    amplitude_target: tuple = ()
    hmcode: "HMcodeOptions | None" = None  # set when non_linear == "hmcode"
    numerical_nowiggle: bool = False  # classy pk_numerical_nw (CLASS 'numerical_nowiggle')
    analytic_nowiggle: bool = False  # classy pk_analytic_nw (CLASS 'analytic_nowiggle'; on with hmcode)
    # CLASS k_output_values [1/Mpc], sorted (input.c sorts them): per-k time series (classy get_perturbations)
    k_output_values: tuple[float, ...] = ()
    gauge: str = "synchronous"  # CLASS 'gauge': "synchronous" or "newtonian"
    perturbations_in_current_gauge: bool = False  # CLASS get_perturbations_in_current_gauge


@dataclasses.dataclass(frozen=True)
class HMcodeOptions:
    """CLASS's HMcode inputs (input.c, input_read_parameters_nonlinear; defaults input.c / fourier.h):
    version '2015' (= 2016), '2020' or '2020_baryonic_feedback'; eta_0, c_min (2015: the emu_dmonly feedback
    model's 0.603, 3.13 unless set); log10T_heat_hmcode (2020_baryonic_feedback); z_infinity (dark-energy
    correction redshift); nk_wiggle (de-wiggling points); min_k_max (hmcode_min_k_max [1/Mpc])."""

    version: str = "2020"
    eta_0: float = 0.603
    c_min: float = 3.13
    log10T_heat: float = 7.8
    z_infinity: float = 10.0
    nk_wiggle: int = 512
    min_k_max: float = 5.0


_FEEDBACK = {"emu_dmonly": (0.603, 3.13), "owls_dmonly": (0.64, 3.43), "owls_ref": (0.68, 3.91),
             "owls_agn": (0.76, 2.32), "owls_dblim": (0.70, 3.01)}  # hmcode.c hmcode_baryonic_feedback


def _hmcode_options(p: dict) -> "HMcodeOptions":
    """HMcodeOptions from CLASS inputs, with CLASS's rules and messages (input.c)."""
    names = [n for n in ("hmcode_version", "HMcode_version", "hmcode version") if n in p]
    version = "2020"
    if names:
        raw = str(p[names[0]])
        if "15" in raw or "16" in raw:
            version = "2015"
        elif "20baryon" in raw or "20_baryon" in raw:
            version = "2020_baryonic_feedback"
        elif "20" in raw:
            version = "2020"
        else:
            raise CosmoSevereError(f"You specified 'hmcode_version' = '{raw}'. It has to be one of "
                                   "{'2015','2020','2020_baryonic_feedback'}.")
    eta_0, c_min = _FEEDBACK["emu_dmonly"]
    fb = [n for n in ("feedback_model", "feedback model") if n in p]
    given = [n for n in ("eta_0", "c_min", *fb) if n in p]
    if version != "2015" and given:
        raise CosmoSevereError(f"Class did not read input parameter(s): {', '.join(given)} (CLASS reads them only "
                               "with hmcode_version = 2015/2016)")
    if "log10T_heat_hmcode" in p and version != "2020_baryonic_feedback":
        raise CosmoSevereError("Class did not read input parameter(s): log10T_heat_hmcode (CLASS reads it only with "
                               "hmcode_version = 2020_baryonic_feedback)")
    if fb:
        model = str(p[fb[0]])
        for key, val in _FEEDBACK.items():  # CLASS: strstr, the last match wins
            if key in model:
                eta_0, c_min = val
        if "eta_0" in p or "c_min" in p:
            raise CosmoSevereError("In input file, you cannot enter both a baryonic feedback model and a choice of "
                                   "baryonic feedback parameters, choose one of both methods")
    if "eta_0" in p and "c_min" in p:
        eta_0, c_min = _float("eta_0", p["eta_0"]), _float("c_min", p["c_min"])
    elif "eta_0" in p:
        eta_0 = _float("eta_0", p["eta_0"])
        c_min = (0.98 - eta_0) / 0.12
    elif "c_min" in p:
        c_min = _float("c_min", p["c_min"])
        eta_0 = 0.98 - 0.12 * c_min
    ext = _int("extrapolation_method", p.get("extrapolation_method", 3))
    if ext != 3:
        raise NotImplementedOutputError(f"Parameter 'extrapolation_method' = {ext}: only CLASS's default 3 "
                                        "(extrap_max_scaled) is implemented")
    nk = _int("nk_wiggle", p.get("nk_wiggle", 512))
    if nk < 3:
        raise CosmoSevereError(f"Parameter 'nk_wiggle' = {nk}: needs at least 3 points")
    return HMcodeOptions(version=version, eta_0=eta_0, c_min=c_min,
                         log10T_heat=_float("log10T_heat_hmcode", p.get("log10T_heat_hmcode", 7.8)),
                         z_infinity=_float("z_infinity", p.get("z_infinity", 10.0)), nk_wiggle=nk,
                         min_k_max=max(5.0, _float("hmcode_min_k_max", p.get("hmcode_min_k_max", 5.0))))


def _flag(name: str, value) -> bool:
    """CLASS's class_read_flag: a string starting with y/Y/t/T is true, n/N/f/F false."""
    s = str(value).strip()
    if s[:1] in ("y", "Y", "t", "T"):
        return True
    if s[:1] in ("n", "N", "f", "F"):
        return False
    raise CosmoSevereError(f"Parameter '{name}' = '{value}': expected yes or no")


def _float(name: str, value) -> float:
    """A finite number from a number or a string (as CLASS's parser reads it); anything else names ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, str, np.ndarray)):
        raise CosmoSevereError(f"Parameter '{name}': expected a number, got {type(value).__name__} {value!r}")
    if isinstance(value, np.ndarray) and value.ndim != 0:
        raise CosmoSevereError(f"Parameter '{name}': expected one number, got an array of shape {value.shape}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise CosmoSevereError(f"Parameter '{name}': could not read {value!r} as a number") from None
    if not math.isfinite(x):
        raise CosmoSevereError(f"Parameter '{name}' = {value!r}: not a finite number")
    return x


def _int(name: str, value) -> int:
    """An integer (CLASS reads these with %d): a number with no fractional part."""
    x = _float(name, value)
    if x != int(x):
        raise CosmoSevereError(f"Parameter '{name}' = {value!r}: expected an integer")
    return int(x)


def _floats(name: str, value) -> list[float]:
    if isinstance(value, (list, tuple, np.ndarray)) and np.ndim(value) == 1:
        return [_float(name, v) for v in value]
    if isinstance(value, (numbers.Real, np.ndarray)) and not isinstance(value, (bool, np.bool_)):
        return [_float(name, value)]
    if not isinstance(value, str):
        raise CosmoSevereError(f"Parameter '{name}': expected a number or a comma-separated list, got "
                               f"{type(value).__name__} {value!r}")
    items = [x.strip() for x in value.split(",")]
    if len(items) > 1 and items[-1] == "":
        items = items[:-1]  # a trailing comma, as CLASS's list parser allows
    if not items or any(x == "" for x in items):
        raise CosmoSevereError(f"Parameter '{name}' = {value!r}: an empty entry in the list")
    return [_float(name, v) for x in items for v in x.split()]


def _check_range(name: str, value: float) -> None:
    lo, hi = RANGES.get(name, (-math.inf, math.inf))
    if not (lo <= value <= hi):
        raise CosmoSevereError(f"Parameter '{name}' = {value} outside the allowed range [{lo}, {hi}]")


def _ranged(p: dict, name: str, default: float) -> float:
    """The number given for ``name`` (or ``default``), checked against `RANGES`."""
    x = _float(name, p.get(name, default))
    _check_range(name, x)
    return x


def _exclusive(p: dict, names: tuple[str, ...]) -> str | None:
    given = [n for n in names if n in p]
    if len(given) > 1:
        raise CosmoSevereError(f"You can only enter one of {', '.join(repr(n) for n in names)} (got {given})")
    return given[0] if given else None


def _output_list(value) -> tuple[str, ...]:
    s = str(value).replace(",", " ").split()
    return tuple(x.strip() for x in s if x.strip())


def _names(d) -> dict:
    if not isinstance(d, dict):
        raise CosmoSevereError(f"CLASS parameters must be a dict of name -> value, got {type(d).__name__}")
    p = {}
    for k, v in d.items():
        if not isinstance(k, str) or not k.strip():
            raise CosmoSevereError(f"Parameter name {k!r}: names are non-empty strings (CLASS names)")
        if k.strip() in p:
            raise CosmoSevereError(f"Parameter '{k.strip()}' given twice (names differing only by spaces)")
        if v is None:
            raise CosmoSevereError(f"Parameter '{k.strip()}': no value (None)")
        p[k.strip()] = v.strip() if isinstance(v, str) else v
    return p


def from_class_dict(d: dict, unread: str = "error", amplitude_from_sigma8: bool = False
                    ) -> tuple[CosmoParams, Request]:
    """CLASS input dict -> (CosmoParams, Request), with CLASS's defaults and closure rules.

    Every name goes through `class_inputs.screen` first (CLASS's vocabulary: precision parameters, flags,
    switches of features boltzax lacks at their default values, and CLASS's rules on which names it reads
    for a given input).  ``unread``: names CLASS would not read for this input are an error ("error", as
    classy), a warning ("warn", as the ``class`` executable) or ignored ("ignore").

    Raises CosmoSevereError naming the parameter for unknown names, wrong types, contradictory combinations
    and values outside the allowed ranges; NotImplementedOutputError for features boltzax lacks.
    ``amplitude_from_sigma8``: accept 'sigma8' / 'S8' instead of A_s (CLASS shoots on A_s); the CosmoParams
    then carry CLASS's default A_s and ``Request.amplitude_target`` the target, which `boltzax.Class` meets by
    rescaling A_s once the linear P(k) is known.  The native API refuses them (its A_s would be wrong).
    """
    from .class_inputs import screen

    screened = screen(_names(d), KNOWN_KEYS, unread)
    p = screened.parse
    D = CLASS_DEFAULTS
    # the dark-energy fluid's perturbations: CLASS's default PPF scheme with c_Gamma/c_fld = 0.4 only
    if str(p.get("use_ppf", "yes")).strip().lower() not in ("yes", "y", "true", "1"):
        raise NotImplementedOutputError("Parameter 'use_ppf' = no (a plain fluid) is not implemented; "
                                        "boltzax perturbs w0/wa dark energy with CLASS's PPF scheme (use_ppf = yes)")
    if "c_gamma_over_c_fld" in p and _float("c_gamma_over_c_fld", p["c_gamma_over_c_fld"]) != 0.4:
        raise NotImplementedOutputError("Parameter 'c_gamma_over_c_fld': only CLASS's default 0.4 is implemented")

    # --- Hubble rate: h, H0 or 100*theta_s
    if "theta_s_100" in p:  # CLASS's alias of 100*theta_s (input.c target_namestrings)
        if "100*theta_s" in p:
            raise CosmoSevereError("You can only enter one of '100*theta_s' or 'theta_s_100'")
        p["100*theta_s"] = p.pop("theta_s_100")
    which = _exclusive(p, ("h", "H0", "100*theta_s"))
    h_from_theta_s = which == "100*theta_s"
    h = D["h"]
    theta = 1.04110
    if which == "h":
        h = _float("h", p["h"])
    elif which == "H0":
        h = _float("H0", p["H0"]) / 100.0
    elif which == "100*theta_s":
        theta = _float("100*theta_s", p["100*theta_s"])
        _check_range("100*theta_s", theta)
    _check_range("h", h)

    T_cmb = _float("T_cmb", p.get("T_cmb", D["T_cmb"]))
    _check_range("T_cmb", T_cmb)

    def physical(lower: str, upper: str, default: float) -> float:
        w = _exclusive(p, (upper, lower))
        if w == lower:
            return _float(lower, p[lower])
        if w == upper:
            if h_from_theta_s:
                raise CosmoSevereError(f"'{upper}' cannot be combined with '100*theta_s'; give '{lower}'")
            return _float(upper, p[upper]) * h * h
        return default

    omega_b = physical("omega_b", "Omega_b", D["omega_b"])
    _check_range("omega_b", omega_b)
    omega_cdm = physical("omega_cdm", "Omega_cdm", D["omega_cdm"])
    matter_budget = _exclusive(p, ("Omega_m", "omega_m"))
    if matter_budget is not None:
        given = [n for n in ("Omega_cdm", "omega_cdm") if n in p]
        if given:
            raise CosmoSevereError(f"If you want to use '{matter_budget}' you cannot fix '{given[0]}' "
                                   "simultaneously (CLASS input.c)")
        if matter_budget == "Omega_m" and h_from_theta_s:
            raise CosmoSevereError("'Omega_m' cannot be combined with '100*theta_s'; give 'omega_m'")
    else:
        _check_range("omega_cdm", omega_cdm)

    # --- primordial amplitude
    wa = _exclusive(p, ("A_s", "ln10^{10}A_s", "ln_A_s_1e10", "sigma8", "S8"))
    A_s = D["A_s"]
    amplitude_target = ()
    if wa in ("sigma8", "S8"):
        if not amplitude_from_sigma8:
            raise NotImplementedOutputError(f"Parameter '{wa}' as an input needs P(k): use boltzax.Class (it rescales "
                                            f"A_s, P is proportional to A_s), or give 'A_s' to the native API")
        amplitude_target = (wa, _ranged(p, wa, 0.8))
    elif wa == "A_s":
        A_s = _float("A_s", p["A_s"])
    elif wa is not None:
        A_s = math.exp(_float(wa, p[wa])) * 1e-10
    _check_range("A_s", A_s)
    n_s = _float("n_s", p.get("n_s", D["n_s"]))
    _check_range("n_s", n_s)

    # --- neutrinos
    N_ncdm = _int("N_ncdm", p.get("N_ncdm", 0))
    if not 0 <= N_ncdm <= 10:
        raise CosmoSevereError(f"Parameter 'N_ncdm' = {N_ncdm} outside the allowed range [0, 10]")
    for name in ("m_ncdm", "T_ncdm", "deg_ncdm"):
        if name in p and N_ncdm == 0:
            raise CosmoSevereError(f"Parameter '{name}' given but 'N_ncdm' is 0 (set N_ncdm)")

    def ncdm_list(name: str, default: float | None) -> np.ndarray:
        if name not in p:
            if default is None:
                raise CosmoSevereError(f"Parameter '{name}' is required when N_ncdm = {N_ncdm}")
            return np.full(N_ncdm, default)
        vals = _floats(name, p[name])
        if len(vals) != N_ncdm:
            raise CosmoSevereError(f"Parameter '{name}' has {len(vals)} entries, N_ncdm = {N_ncdm}")
        return np.asarray(vals, dtype=float)

    m_ncdm = ncdm_list("m_ncdm", None) if N_ncdm else np.zeros(0)
    for m in m_ncdm:
        _check_range("m_ncdm", m)
    T_ncdm = ncdm_list("T_ncdm", D["T_ncdm"]) if N_ncdm else np.zeros(0)
    deg_ncdm = ncdm_list("deg_ncdm", D["deg_ncdm"]) if N_ncdm else np.zeros(0)
    for name, values in (("T_ncdm", T_ncdm), ("deg_ncdm", deg_ncdm)):
        for x in values:
            _check_range(name, x)

    wu = _exclusive(p, ("N_ur", "Omega_ur", "omega_ur", "Neff"))
    from .constants import nu_over_gamma, omega_gamma

    og = omega_gamma(T_cmb)
    if wu is None:
        N_ur = D["N_ur"]
    elif wu == "N_ur":
        N_ur = _float("N_ur", p["N_ur"])
    elif wu == "omega_ur":
        N_ur = _float("omega_ur", p["omega_ur"]) / (nu_over_gamma * og)
    elif wu == "Omega_ur":
        N_ur = _float("Omega_ur", p["Omega_ur"]) * h * h / (nu_over_gamma * og)
    else:  # Neff: N_ur is set below so that the derived Neff equals it (CLASS shoots on N_ur)
        N_ur = 0.0
        _check_range("Neff", _float("Neff", p["Neff"]))
    _check_range("N_ur", N_ur)

    # --- curvature and dark energy closure (input.c section 8)
    Omega_k = _float("Omega_k", p.get("Omega_k", D["Omega_k"]))
    _check_range("Omega_k", Omega_k)
    has_L, has_f = "Omega_Lambda" in p, "Omega_fld" in p
    if has_L and has_f:
        raise CosmoSevereError("'Omega_Lambda' or 'Omega_fld' must be left unspecified (one closes the budget)")
    Omega_Lambda = _ranged(p, "Omega_Lambda", 0.0)
    Omega_fld = _ranged(p, "Omega_fld", 0.0)
    closure = "fld" if has_L else "lambda"
    has_fld = has_L or (has_f and Omega_fld != 0.0)
    if not has_fld:
        for name in ("w0_fld", "wa_fld", "cs2_fld"):
            if name in p and _float(name, p[name]) != CLASS_DEFAULTS[name]:
                raise CosmoSevereError(
                    f"Parameter '{name}' given but no dark-energy fluid: set 'Omega_Lambda' (e.g. 0) so that "
                    "the fluid closes the budget, or give 'Omega_fld'"
                )

    if has_fld:
        _check_early_fluid(p)

    # --- helium, reionisation
    YHe_from_bbn = True
    YHe = 0.2454
    if "YHe" in p:
        s = str(p["YHe"]).strip()
        if s.lower() not in ("bbn",):
            YHe_from_bbn = False
            YHe = _float("YHe", s)
            _check_range("YHe", YHe)
    wr = _exclusive(p, ("tau_reio", "z_reio"))
    reio_from_tau = wr != "z_reio"
    tau_reio = _float("tau_reio", p.get("tau_reio", D["tau_reio"]))
    z_reio = _float("z_reio", p.get("z_reio", D["z_reio"]))
    _check_range("tau_reio", tau_reio)
    _check_range("z_reio", z_reio)
    reionization = "camb"
    if "reio_parametrization" in p:
        rp = str(p["reio_parametrization"]).strip()
        if rp not in ("reio_camb", "reio_none"):
            raise CosmoSevereError(f"Parameter 'reio_parametrization' = '{rp}': only reio_camb, reio_none")
        reionization = "camb" if rp == "reio_camb" else "none"
    recomb = str(p.get("recombination", "hyrec")).strip().lower()
    if recomb not in ("hyrec", "recfast"):
        raise CosmoSevereError(f"Parameter 'recombination' = '{recomb}': allowed 'hyrec' or 'recfast'")

    r = _ranged(p, "r", D["r"])
    # CLASS default n_t = "scc": -r/8 (2 - r/8 - n_s) (input.c, single-field consistency)
    n_t = _float("n_t", p["n_t"]) if "n_t" in p and str(p["n_t"]) != "scc" else -r / 8.0 * (2.0 - r / 8.0 - n_s)
    # CLASS default alpha_t = "scc": r/8 (r/8 + n_s - 1) (input.c, single-field consistency)
    alpha_t = (_float("alpha_t", p["alpha_t"]) if "alpha_t" in p and str(p["alpha_t"]) != "scc"
               else r / 8.0 * (r / 8.0 + n_s - 1.0))

    params = CosmoParams(
        h=h, omega_b=omega_b, omega_cdm=omega_cdm, Omega_k=Omega_k, Omega_Lambda=Omega_Lambda,
        Omega_fld=Omega_fld, A_s=A_s, n_s=n_s, alpha_s=_ranged(p, "alpha_s", D["alpha_s"]),
        k_pivot=_ranged(p, "k_pivot", D["k_pivot"]), tau_reio=tau_reio, z_reio=z_reio,
        N_ur=N_ur, T_cmb=T_cmb, YHe=YHe, m_ncdm=jnp.asarray(m_ncdm), T_ncdm=jnp.asarray(T_ncdm),
        deg_ncdm=jnp.asarray(deg_ncdm), w0_fld=_ranged(p, "w0_fld", D["w0_fld"]),
        wa_fld=_ranged(p, "wa_fld", D["wa_fld"]),
        cs2_fld=_ranged(p, "cs2_fld", D["cs2_fld"]), r=r, n_t=n_t, theta_s_100=theta, alpha_t=alpha_t,
        closure=closure, has_fld=has_fld, h_from_theta_s=h_from_theta_s, reio_from_tau=reio_from_tau,
        YHe_from_bbn=YHe_from_bbn, recombination=recomb, reionization=reionization,
    )
    # convert scalars to float64 jax arrays so the pytree is uniform
    params = _as_arrays(params)
    if wu == "Neff" or matter_budget is not None:
        params = _derived_inputs(params, p, wu, matter_budget)
    if YHe_from_bbn:
        _check_bbn(params)
    precision = screened.precision
    if _gauge(p.get("gauge", "synchronous")) == "newtonian" and params.n_ncdm:
        # CLASS input.c: with N_ncdm > 0 the ncdm momentum quadrature tolerance is tol_ncdm_newtonian (1e-5 by
        # default: 11 nodes against 5) in Newtonian gauge, tol_ncdm_synchronous (1e-3) in synchronous gauge
        tol = _names(d).get("tol_ncdm_newtonian", TOL_NCDM_NEWTONIAN)
        precision = tuple(x for x in precision if x[:2] != ("perturbations", "tol_ncdm")) + (
            ("perturbations", "tol_ncdm", _float("tol_ncdm_newtonian", tol)),)
    request = dataclasses.replace(_request(p, precision), amplitude_target=amplitude_target)
    if screened.unread_message:
        raise CosmoSevereError(screened.unread_message)
    return params, request


def _check_early_fluid(p: dict) -> None:
    """The fluid's early-time equation of state w(a -> 0) = w0_fld + wa_fld must stay below 1/3: at or above
    it the fluid's density grows at least as fast as radiation's into the past, dominates the early universe
    and the thermal history (BBN, recombination) and the adiabatic initial conditions no longer hold.  CLASS
    computes such models and fails later (recombination outside its range) or returns P(k) off by factors;
    boltzax refuses them here, naming the two parameters and the allowed range."""
    w0 = _float("w0_fld", p.get("w0_fld", CLASS_DEFAULTS["w0_fld"]))
    wa = _float("wa_fld", p.get("wa_fld", CLASS_DEFAULTS["wa_fld"]))
    if not w0 + wa < 1.0 / 3.0:
        raise CosmoSevereError(f"Parameters 'w0_fld' + 'wa_fld' = {w0} + {wa} = {w0 + wa:.6g}: the fluid's early-time "
                               "equation of state w(a->0) = w0_fld + wa_fld must be < 1/3 (allowed range "
                               "w0_fld + wa_fld < 0.333333), otherwise the dark energy dominates the early universe")


def _check_bbn(params: CosmoParams) -> None:
    """CLASS's BBN-table range test (thermodynamics.c, thermodynamics_helium_from_bbn), before any computation:
    with YHe = 'BBN', omega_b and N_eff at BBN must lie in the table."""
    from .thermo.bbn import check_bbn_range, neff_at_bbn, NEFF_REF

    check_bbn_range(float(params.omega_b), float(neff_at_bbn(params)) - NEFF_REF)


def _derived_inputs(params: CosmoParams, p: dict, wu, matter_budget) -> CosmoParams:
    """CLASS's inputs that fix a derived quantity (input.c): 'Neff' fixes N_ur (CLASS shoots on N_ur; here
    Neff is linear in N_ur, Neff = N_ur + Neff_ncdm with Neff_ncdm the ncdm contribution at a_ini, so the
    root is exact), 'Omega_m' / 'omega_m' fix omega_cdm = Omega_m h^2 - omega_b - Omega_ncdm h^2 (the whole
    ncdm density today, as input.c's Omega_m_remaining)."""
    from .background import derived_densities

    if wu == "Neff":
        neff_ncdm = float(derived_densities(params.replace(N_ur=jnp.zeros(())))["Neff"])
        N_ur = _float("Neff", p["Neff"]) - neff_ncdm
        if N_ur < 0:
            raise CosmoSevereError(f"Parameter 'Neff' = {p['Neff']}: below the massive neutrinos' own "
                                   f"contribution {neff_ncdm:.6g} (N_ur would be negative)")
        params = params.replace(N_ur=jnp.asarray(N_ur))
    if matter_budget is not None:
        h2 = float(params.h) ** 2
        omega_m = _float(matter_budget, p[matter_budget]) * (h2 if matter_budget == "Omega_m" else 1.0)
        omega_ncdm = float(derived_densities(params)["Omega0_ncdm_tot"]) * h2
        omega_cdm = omega_m - float(params.omega_b) - omega_ncdm
        if omega_cdm < 0:
            raise CosmoSevereError(f"Parameter '{matter_budget}' = {p[matter_budget]}: less than the baryon and "
                                   f"ncdm densities (omega_b = {float(params.omega_b):.6g}, omega_ncdm = "
                                   f"{omega_ncdm:.6g})")
        _check_range("omega_cdm", omega_cdm)
        params = params.replace(omega_cdm=jnp.asarray(omega_cdm))
    return params


def _as_arrays(params: CosmoParams) -> CosmoParams:
    import jax

    return jax.tree_util.tree_map(lambda x: jnp.asarray(x, dtype=jnp.float64), params)


def _request(p: dict, precision: tuple = ()) -> Request:
    output = _output_list(p.get("output", ""))
    allowed = {"tCl", "pCl", "lCl", "nCl", "sCl", "mPk", "dTk", "vTk", "mTk", "Sd", ""}
    bad = [o for o in output if o not in allowed]
    if bad:
        raise CosmoSevereError(f"Parameter 'output': unknown entries {bad}; CLASS allows {sorted(allowed - {''})}")
    lensing = str(p.get("lensing", "no")).strip().lower() in ("yes", "y", "true", "1")
    if "P_k_max_1/Mpc" in p and "P_k_max_h/Mpc" in p:
        raise CosmoSevereError("You can only enter one of 'P_k_max_1/Mpc' or 'P_k_max_h/Mpc'")
    pkmax = _float("P_k_max_1/Mpc", p.get("P_k_max_1/Mpc", 1.0))
    if "P_k_max_h/Mpc" in p:
        h = _float("h", p["h"]) if "h" in p else _float("H0", p.get("H0", 67.81)) / 100.0
        pkmax = _float("P_k_max_h/Mpc", p["P_k_max_h/Mpc"]) * h
    lo, hi = RANGES["P_k_max_1/Mpc"]
    if not lo <= pkmax <= hi:
        given = "P_k_max_h/Mpc" if "P_k_max_h/Mpc" in p else "P_k_max_1/Mpc"
        raise CosmoSevereError(f"Parameter '{given}': k_max = {pkmax} 1/Mpc outside the allowed range [{lo}, {hi}] "
                               "1/Mpc")
    z_pk = tuple(_floats("z_pk", p.get("z_pk", "0")))
    for z in z_pk:
        _check_range("z_pk", z)
    z_max_pk = max(z_pk)
    if "z_max_pk" in p:
        z_max_pk = _float("z_max_pk", p["z_max_pk"])
        _check_range("z_max_pk", z_max_pk)
        if max(z_pk) > z_max_pk:
            raise CosmoSevereError(f"Parameter 'z_pk' = {max(z_pk)} beyond 'z_max_pk' = {z_max_pk}")
    _exclusive(p, ("non_linear", "non linear"))
    nl = str(p.get("non_linear", p.get("non linear", "none"))).strip().lower()
    if nl in ("", "no", "none"):
        nl = "none"
    if nl not in ("none", "halofit", "hmcode", "pt"):
        raise CosmoSevereError(f"Parameter 'non_linear' = '{nl}': allowed none, halofit, hmcode, PT")
    hmcode = _hmcode_options(p) if nl == "hmcode" else None
    analytic_nw = _flag("analytic_nowiggle", p["analytic_nowiggle"]) if "analytic_nowiggle" in p else False
    numerical_nw = False
    if "numerical_nowiggle" in p:
        if "mPk" not in output:  # input.c reads it only with the linear P(k)
            raise CosmoSevereError("Class did not read input parameter(s): numerical_nowiggle (CLASS reads it only "
                                   "when output contains mPk)")
        numerical_nw = _flag("numerical_nowiggle", p["numerical_nowiggle"])
    modes = tuple(_output_list(p.get("modes", "s")))
    if not modes or any(m not in ("s", "v", "t") for m in modes):
        raise CosmoSevereError(f"Parameter 'modes' = {p.get('modes')!r}: CLASS allows s, v, t")
    pt = _pt_options(p, nl == "pt")
    l_max = {}
    for name, default in (("l_max_scalars", 2500), ("l_max_tensors", 500)):
        l_max[name] = _int(name, p.get(name, default))
        _check_range(name, l_max[name])
    k_out = tuple(sorted(_floats("k_output_values", p["k_output_values"]))) if "k_output_values" in p else ()
    if any(not k > 0 for k in k_out):
        raise CosmoSevereError(f"Parameter 'k_output_values' = {p['k_output_values']!r}: wavenumbers must be > 0")
    return Request(
        k_output_values=k_out, gauge=_gauge(p.get("gauge", "synchronous")),
        perturbations_in_current_gauge=_flag("get_perturbations_in_current_gauge",
                                             p.get("get_perturbations_in_current_gauge", "no")),
        output=output, lensing=lensing, modes=modes,
        l_max_scalars=l_max["l_max_scalars"], l_max_tensors=l_max["l_max_tensors"],
        P_k_max=pkmax, z_pk=z_pk, z_max_pk=z_max_pk, non_linear=nl, pt=pt, class_precision=precision,
        hmcode=hmcode, numerical_nowiggle=numerical_nw, analytic_nowiggle=analytic_nw or nl == "hmcode" or numerical_nw,
    )


TOL_NCDM_NEWTONIAN = 1e-5  # CLASS precisions.h tol_ncdm_newtonian


def _gauge(value) -> str:
    """CLASS input.c's reading of 'gauge': a string containing 'newtonian', 'Newtonian' or 'new' is the
    Newtonian gauge, one containing 'synchronous', 'sync' or 'Synchronous' the synchronous gauge."""
    s = str(value)
    if "newtonian" in s or "Newtonian" in s or "new" in s:
        return "newtonian"
    if "synchronous" in s or "sync" in s or "Synchronous" in s:
        return "synchronous"
    raise CosmoSevereError(f"You specified the gauge as '{s}'. It has to be one of {{'newtonian','synchronous'}}.")


def _flag(name: str, value) -> bool:
    """CLASS's class_read_flag: a string starting with y/Y or n/N (and classy's booleans)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    s = str(value).strip()
    if s[:1] in ("y", "Y"):
        return True
    if s[:1] in ("n", "N"):
        return False
    raise CosmoSevereError(f"Parameter '{name}' = {value!r}: expected yes or no")


def default_params(**class_inputs) -> CosmoParams:
    """CosmoParams for CLASS's defaults updated with ``class_inputs`` (CLASS names)."""
    return from_class_dict(class_inputs)[0]


def planck18(**overrides) -> CosmoParams:
    """Planck 2018 best fit with one 0.06 eV neutrino (the `make run` cosmology)."""
    return from_class_dict({**PLANCK18, **overrides})[0]
