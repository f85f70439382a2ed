"""CLASS v3.4.1's input vocabulary: which names CLASS reads, when it reads them, and what boltzax does with each.

`screen` runs before `params.from_class_dict` parses the physics.  Every input name falls in one family:

1. **Parsed by boltzax** (`params.KNOWN_KEYS`): the implemented physics and outputs.
2. **Precision parameters** (CLASS ``include/precisions.h``, 216 names, e.g. ``k_per_decade_for_pk``,
   ``k_min_tau0``, ``tol_ncdm_synchronous``, ``l_max_g``; the ``.pre`` files are lists of these).  Those in
   `HONOURED_PRECISION` are mapped onto boltzax's `Precision` fields (same meaning, same units); every other
   one is accepted and has no effect: boltzax's accuracy is set by its own presets (``fast``, ``default``,
   ``high``), whose knobs are documented in ``precision.py``.  A value that is not a number where CLASS reads
   a number is refused.
3. **Switches of features boltzax lacks, at CLASS's default or "off" value** (`FEATURE_DEFAULTS`: dark
   matter annihilation/decay, decaying dark matter, scalar field, interacting dark matter/radiation,
   varying constants, lensing-amplitude rescaling, non-default reionisation shapes ...): accepted, as they
   ask for the physics boltzax computes; any other value raises `NotImplementedOutputError` naming the
   parameter and the feature.
4. **Input and output flags** (`FLAGS`: ``*_verbose``, ``write_*``, ``root``, ``headers``, ``format``):
   accepted; boltzax writes its files through ``boltzax run`` only.
5. **Read by CLASS only under a condition** (`CONDITIONAL`: ``P_k_max_1/Mpc`` only with a P(k) output,
   ``m_ncdm`` only with N_ncdm > 0, ``w0_fld`` only with a fluid, ``binned_reio_z`` only with
   reio_bins_tanh ...).  When the condition is false CLASS does not read the name: classy then raises
   "Class did not read input parameter(s)", the ``class`` executable warns.  `screen` does the same
   (``unread="error"`` for `boltzax.Class`, ``"warn"`` for ``boltzax run`` and the native API).
6. **Any other name CLASS reads** (a feature boltzax lacks) raises `NotImplementedOutputError` naming it.
7. **A name CLASS does not read at all** raises `CosmoSevereError` ("not a CLASS v3.4.1 input"), with the
   closest CLASS names.  The list of CLASS names is extracted from CLASS's source by
   ``tools/class_vocabulary.py`` (``boltzax/data/class_vocabulary.json``), so that claim is checked.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
import os
import warnings

from .errors import CosmoSevereError, NotImplementedOutputError


@functools.lru_cache(maxsize=1)
def vocabulary() -> dict:
    """CLASS's input names, precision parameters (with defaults) and classy's public methods."""
    with open(os.path.join(os.path.dirname(__file__), "data", "class_vocabulary.json")) as f:
        return json.load(f)


def class_input_names() -> frozenset:
    v = vocabulary()
    return frozenset(v["input_names"]) | frozenset(v["precision_defaults"])


# CLASS precision name -> (boltzax Precision stage, field, converter).  Same quantity in both codes:
# hierarchy truncations, approximation switches and triggers, the ncdm quadrature tolerance, a_ini.
def _ncdm_fluid(v: float) -> bool:
    # CLASS enum ncdmfa_method: 0 ncdmfa_mb, 1 ncdmfa_hu, 2 ncdmfa_CLASS, 3 ncdmfa_none
    if int(v) == 3:
        return False
    if int(v) == 2:
        return True
    raise NotImplementedOutputError(f"Parameter 'ncdm_fluid_approximation' = {int(v)}: only 2 (ncdmfa_CLASS) and "
                                    "3 (none) are implemented in boltzax")


def _ur_fluid(v: float) -> bool:
    # CLASS enum ufa_method: 0 ufa_mb, 1 ufa_hu, 2 ufa_CLASS, 3 ufa_none
    if int(v) == 3:
        return False
    if int(v) == 2:
        return True
    raise NotImplementedOutputError(f"Parameter 'ur_fluid_approximation' = {int(v)}: only 2 (ufa_CLASS) and "
                                    "3 (none) are implemented in boltzax")


HONOURED_PRECISION: dict[str, tuple[str, str, object]] = {
    "l_max_g": ("perturbations", "l_max_g", int),
    "l_max_pol_g": ("perturbations", "l_max_pol", int),
    "l_max_ur": ("perturbations", "l_max_ur", int),
    "l_max_ncdm": ("perturbations", "l_max_ncdm", int),
    "tol_ncdm_synchronous": ("perturbations", "tol_ncdm", float),
    "radiation_streaming_trigger_tau_over_tau_k": ("perturbations", "rsa_k_tau", float),
    "ur_fluid_trigger_tau_over_tau_k": ("perturbations", "ufa_k_tau", float),
    "ncdm_fluid_trigger_tau_over_tau_k": ("perturbations", "ncdmfa_k_tau", float),
    "ncdm_fluid_approximation": ("perturbations", "ncdm_fluid", _ncdm_fluid),
    "ur_fluid_approximation": ("perturbations", "ur_fluid", _ur_fluid),
    "a_ini_over_a_today_default": ("background", "a_ini", float),
    # HaloFit (nonlinear/halofit.py HalofitPrecision; read by classy_api.nonlinear, not part of `Precision`)
    "halofit_min_k_nonlinear": ("halofit", "min_k_nonlinear", float),
    "halofit_sigma_precision": ("halofit", "sigma_precision", float),
    "halofit_tol_sigma": ("halofit", "tol_sigma", float),
}

# name -> (feature, accepted values).  Values are CLASS's defaults (input.c, input_default_params) or the
# value that switches the feature off; numbers compare as floats, strings case-insensitively.
_OFF = (0.0,)
FEATURE_DEFAULTS: dict[str, tuple[str, tuple]] = {
    # exotic energy injection (input_read_parameters_injection)
    **{n: ("exotic energy injection", _OFF) for n in (
        "DM_annihilation_cross_section", "DM_annihilation_mass", "DM_annihilation_efficiency",
        "DM_annihilation_fraction", "DM_decay_fraction", "DM_decay_Gamma", "PBH_evaporation_fraction",
        "PBH_evaporation_mass", "PBH_accretion_fraction", "PBH_accretion_mass")},
    "f_eff_type": ("exotic energy injection", ("on_the_spot",)),
    "chi_type": ("exotic energy injection", ("CK_2004",)),
    "PBH_accretion_recipe": ("exotic energy injection", ("disk_accretion",)),
    "PBH_accretion_relative_velocities": ("exotic energy injection", (-1.0,)),
    "PBH_accretion_ADAF_delta": ("exotic energy injection", (1e-3,)),
    "PBH_accretion_eigenvalue": ("exotic energy injection", (0.1,)),
    # extra species switched off
    **{n: ("decaying dark matter", _OFF) for n in (
        "Omega_dcdmdr", "omega_dcdmdr", "Omega_ini_dcdm", "omega_ini_dcdm")},
    "Omega_scf": ("scalar-field dark energy", _OFF),
    "Omega_EDE": ("early dark energy fluid", _OFF),
    **{n: ("interacting dark matter / dark radiation", _OFF) for n in (
        "f_idm", "Omega_idm", "omega_idm", "N_idr", "N_dg", "xi_idr")},
    "stat_f_idr": ("interacting dark radiation", (0.875,)),
    "varying_fundamental_constants": ("varying fundamental constants", ("none",)),
    "Omega_g": ("a photon density other than T_cmb's", ()),
    "omega_g": ("a photon density other than T_cmb's", ()),
    # reionisation shape of reio_camb (thermo/reionization.py uses CLASS's defaults)
    "reionization_exponent": ("reio_camb with a non-default exponent", (1.5,)),
    "reionization_width": ("reio_camb with a non-default width", (0.5,)),
    "helium_fullreio_redshift": ("reio_camb with a non-default helium reionisation", (3.5,)),
    "helium_fullreio_width": ("reio_camb with a non-default helium reionisation", (0.5,)),
    # primordial spectrum, perturbation extras, spectral distortions
    "P_k_ini type": ("primordial spectra other than analytic_Pk", ("analytic_Pk",)),
    "Pk_ini_type": ("primordial spectra other than analytic_Pk", ("analytic_Pk",)),
    "ic": ("isocurvature initial conditions", ("ad",)),
    "perturbed recombination": ("perturbed recombination", ("no", "n")),
    "perturbed_recombination": ("perturbed recombination", ("no", "n")),
    "extra metric transfer functions": ("extra metric transfer functions", ("no", "n")),
    "extra_metric_transfer_functions": ("extra metric transfer functions", ("no", "n")),
    "Nbody gauge transfer functions": ("N-body gauge transfer functions", ("no", "n")),
    "nbody_gauge_transfer_functions": ("N-body gauge transfer functions", ("no", "n")),
    "matter_source_in_current_gauge": ("matter sources in the current gauge", ("no", "n")),
    "include_SZ_effect": ("spectral distortions", ("no", "n")),
    "sd_branching_approx": ("spectral distortions", ("exact",)),
    "sd_PCA_size": ("spectral distortions", (2.0,)),
    "sd_detector_name": ("spectral distortions", ("PIXIE",)),
    "sd_only_exotic": ("spectral distortions", ("no", "n")),
    "sd_include_g_distortion": ("spectral distortions", ("no", "n")),
    "sd_add_y": ("spectral distortions", _OFF),
    "sd_add_mu": ("spectral distortions", _OFF),
    "sd_reio_type": ("spectral distortions", ("Nozawa_2005",)),
    # C_l settings at CLASS's defaults (read with C_l outputs; the C_l themselves are the CMB issue's)
    "lcmb_rescale": ("rescaled CMB lensing", (1.0,)),
    "lcmb_tilt": ("rescaled CMB lensing", (0.0,)),
    "lcmb_pivot": ("rescaled CMB lensing", (0.1,)),
    "want_lcmb_full_limber": ("the full-Limber lensing potential switch", ("yes", "y")),
    "compute damping scale": ("the photon damping scale r_d in the thermodynamics table", ("no", "n")),
    "compute_damping_scale": ("the photon damping scale r_d in the thermodynamics table", ("no", "n")),
}

FLAGS = frozenset({
    "input_verbose", "background_verbose", "thermodynamics_verbose", "perturbations_verbose", "transfer_verbose",
    "primordial_verbose", "harmonic_verbose", "fourier_verbose", "lensing_verbose", "distortions_verbose",
    "output_verbose", "hyrec_verbose", "root", "overwrite_root", "headers", "format",
    "write background", "write_background", "write thermodynamics", "write_thermodynamics", "write primordial",
    "write_primordial", "write parameters", "write_parameters", "write warnings", "write_warnings",
    "write exotic injection", "write_exotic_injection", "write noninjection", "write_noninjection",
    "write distortions", "write_distortions",
})


@dataclasses.dataclass(frozen=True)
class _Ctx:
    """What the conditions of `CONDITIONAL` look at, read leniently from the raw input."""

    output: frozenset
    modes: frozenset
    n_ncdm: int
    has_fld: bool
    reio: str
    non_linear: str
    lensing: bool

    @property
    def has_cls(self) -> bool:
        return bool(self.output & {"tCl", "pCl", "lCl", "nCl", "dCl", "sCl"})

    @property
    def has_pk(self) -> bool:
        return bool(self.output & {"mPk", "mTk", "dTk", "vTk", "nCl", "dCl", "sCl"})

    @property
    def has_perturbations(self) -> bool:
        return bool(self.output - {"Sd"})


def _ctx(p: dict) -> _Ctx:
    def words(name, default=""):
        return frozenset(w for w in str(p.get(name, default)).replace(",", " ").split() if w)

    def num(name, default=0.0):
        try:
            return float(p.get(name, default))
        except (TypeError, ValueError):
            return default

    has_fld = "Omega_Lambda" in p or num("Omega_fld") != 0.0
    nl = str(p.get("non_linear", p.get("non linear", ""))).strip().lower()
    return _Ctx(output=words("output"), modes=words("modes", "s"), n_ncdm=int(num("N_ncdm")), has_fld=has_fld,
                reio=str(p.get("reio_parametrization", "reio_camb")).strip(), non_linear=nl,
                lensing=str(p.get("lensing", "no")).strip().lower() in ("yes", "y", "true", "1"))


# names CLASS reads only when a condition holds: (names, condition, what the condition is)
CONDITIONAL: list[tuple[tuple[str, ...], object, str]] = [
    (("P_k_max_1/Mpc", "P_k_max_h/Mpc", "z_pk", "z_max_pk"), lambda c: c.has_pk,
     "a P(k) or transfer output (mPk, mTk, vTk, dTk) is requested"),
    (("modes", "gauge", "non_linear", "non linear", "get_perturbations_in_current_gauge"),
     lambda c: c.has_perturbations, "an output is requested"),
    (("ic",), lambda c: c.has_perturbations and "s" in c.modes, "scalar modes are requested with an output"),
    (("l_max_scalars",), lambda c: c.has_cls and "s" in c.modes, "a scalar C_l output is requested"),
    (("l_max_tensors",), lambda c: c.has_cls and "t" in c.modes, "tensor modes and a C_l output are requested"),
    (("r", "n_t", "alpha_t"), lambda c: "t" in c.modes and c.has_perturbations, "tensor modes are requested"),
    (("lcmb_rescale", "lcmb_tilt", "lcmb_pivot"), lambda c: c.lensing and c.has_cls, "lensed C_l are requested"),
    (("m_ncdm", "T_ncdm", "deg_ncdm", "ksi_ncdm", "Omega_ncdm", "omega_ncdm", "use_ncdm_psd_files",
      "ncdm_psd_parameters", "ncdm_psd_filenames", "Quadrature strategy", "Maximum_q", "Number of momentum bins",
      "ncdm_quadrature_strategy", "ncdm_maximum_q", "ncdm_N_momentum_bins"), lambda c: c.n_ncdm > 0, "N_ncdm > 0"),
    (("w0_fld", "wa_fld", "cs2_fld", "use_ppf", "c_gamma_over_c_fld", "fluid_equation_of_state"),
     lambda c: c.has_fld, "a dark-energy fluid is present (Omega_Lambda given, or Omega_fld != 0)"),
    (("reionization_exponent", "reionization_width", "helium_fullreio_redshift", "helium_fullreio_width"),
     lambda c: c.reio in ("reio_camb", "reio_half_tanh"), "reio_parametrization is reio_camb or reio_half_tanh"),
    (("binned_reio_num", "binned_reio_z", "binned_reio_xe", "binned_reio_step_sharpness"),
     lambda c: c.reio == "reio_bins_tanh", "reio_parametrization = reio_bins_tanh"),
    (("many_tanh_num", "many_tanh_z", "many_tanh_xe", "many_tanh_width"),
     lambda c: c.reio == "reio_many_tanh", "reio_parametrization = reio_many_tanh"),
    (("reio_inter_num", "reio_inter_z", "reio_inter_xe"), lambda c: c.reio == "reio_inter",
     "reio_parametrization = reio_inter"),
    (("varying_alpha", "varying_me", "bbn_alpha_sensitivity", "varying_transition_redshift"), lambda c: False,
     "varying_fundamental_constants is not none"),
    (("DM_annihilation_variation", "DM_annihilation_z", "DM_annihilation_zmax", "DM_annihilation_zmin",
      "DM_annihilation_f_halo", "DM_annihilation_z_halo", "f_eff", "f_eff_file", "chi_file"), lambda c: False,
     "dark-matter annihilation (or the matching injection option) is switched on"),
    (("Gamma_dcdm", "tau_dcdm"), lambda c: False, "decaying dark matter is present"),
    (("scf_parameters", "attractor_ic_scf", "scf_tuning_index", "scf_shooting_parameter", "scf_potential"),
     lambda c: False, "a scalar field is present (Omega_scf != 0)"),
    (("m_idm", "a_idm_dr", "alpha_idm_dr", "beta_idr", "cross_idm_b", "cross_idm_g", "u_idm_g", "n_index_idm_b",
      "n_index_idm_g", "n_index_idm_dr", "nindex_idm_dr", "idm_soundspeed", "idr_nature", "a_dark", "b_dark",
      "b_idr", "alpha_dark", "beta_dark", "nindex_dark", "Gamma_0_nadm", "ln_aH_ratio"), lambda c: False,
     "interacting dark matter or dark radiation is present"),
    (("f_bi", "n_bi", "alpha_bi", "f_cdi", "n_cdi", "alpha_cdi", "f_nid", "n_nid", "alpha_nid", "f_niv", "n_niv",
      "alpha_niv") + tuple(f"{a}_{x}_{y}" for a in ("c", "n", "alpha") for x in ("ad", "bi", "cdi", "nid", "niv")
                           for y in ("ad", "bi", "cdi", "nid", "niv") if x != y),
     lambda c: False, "isocurvature initial conditions are requested ('ic')"),
    (("potential", "V_0", "V_1", "V_2", "V_3", "V_4", "H_0", "H_1", "H_2", "H_3", "H_4", "R_0", "R_1", "R_2",
      "R_3", "R_4", "PSR_0", "PSR_1", "PSR_2", "PSR_3", "PSR_4", "HSR_0", "HSR_1", "HSR_2", "HSR_3", "HSR_4",
      "full_potential", "phi_end", "Vparam0", "Vparam1", "Vparam2", "Vparam3", "Vparam4", "N_star",
      "inflation_behavior", "k1", "k2", "P_{RR}^1", "P_{RR}^2", "P_{II}^1", "P_{II}^2", "P_{RI}^1", "|P_{RI}^2|",
      "special iso", "command") + tuple(f"custom{i}" for i in range(1, 11)),
     lambda c: False, "'P_k_ini type' is not analytic_Pk"),
    (("selection", "selection_mean", "selection_width", "selection_bias", "selection_magnification_bias",
      "non_diagonal", "dNdz_selection", "dNdz_evolution", "bias", "s_bias", "number count contributions",
      "number_count_contributions", "l_switch_limber_for_cl_density_over_z", "l_max_lss"),
     lambda c: bool(c.output & {"nCl", "dCl", "sCl"}), "a number-count or shear C_l output (nCl, sCl) is requested"),
    (("sd_detector_nu_min", "sd_detector_nu_max", "sd_detector_nu_delta", "sd_detector_bin_number",
      "sd_detector_delta_Ic", "sd_detector_file"), lambda c: "Sd" in c.output, "output contains Sd"),
    (("HMcode_version", "hmcode_version", "hmcode version", "eta_0", "c_min", "log10T_heat_hmcode",
      "feedback model", "feedback_model", "z_infinity", "hmcode_min_k_max", "nk_wiggle", "extrapolation_method"),
     lambda c: c.non_linear == "hmcode", "non_linear = hmcode"),
    (("halofit_min_k_max",), lambda c: c.non_linear == "halofit", "non_linear = halofit"),
    (("early/late isw redshift", "early_late_isw_redshift", "temperature contributions",
      "temperature_contributions", "want_lcmb_full_limber", "tensor method", "tensor_method", "l_max_vectors",
      "vector_method", "hierarchy"), lambda c: c.has_cls, "a C_l output is requested"),
]
_CONDITION_OF = {n: (cond, what) for names, cond, what in CONDITIONAL for n in names}

# boltzax-only names (CLASS-PT's options with non linear = PT, not CLASS inputs)
PT_KEYS = frozenset({"IR resummation", "Bias tracers", "RSD", "AP", "Omfid", "cb", "PNG", "FFTLog mode",
                     "Input Pk", "no-wiggle", "alpha_rs", "PT_k_max_h/Mpc"})


@dataclasses.dataclass(frozen=True)
class Screened:
    """The result of `screen`: the inputs for boltzax's parser, the precision overrides (``(stage, field,
    value)``), the accepted names without effect, and the names CLASS would not read."""

    parse: dict
    precision: tuple = ()
    no_effect: tuple = ()
    unread: tuple = ()
    unread_message: str = ""  # set when unread == "error": raised once the values are validated


def _is_number(s) -> bool:
    try:
        float(s)
        return True
    except (TypeError, ValueError):
        return False


def _matches(value, accepted: tuple) -> bool:
    for a in accepted:
        if isinstance(a, float):
            if _is_number(value) and float(value) == a:
                return True
        elif str(value).strip().lower() == a.lower():
            return True
    return False


def screen(p: dict, known: frozenset, unread: str = "error") -> Screened:
    """Sort the CLASS input dict ``p`` (names stripped) into the families of the module docstring.

    ``known``: the names boltzax's parser reads (`params.KNOWN_KEYS`).  ``unread``: what to do with names
    CLASS would not read for this input ("error": kept for validation, and `Screened.unread_message` set for
    the caller to raise after parsing, as classy; "warn": dropped with a UserWarning, as the ``class``
    executable; "ignore": dropped).  Raises CosmoSevereError for names CLASS does not know and for
    precision values that are not numbers, NotImplementedOutputError for features boltzax lacks."""
    names = class_input_names()
    prec_defaults = vocabulary()["precision_defaults"]
    ctx = _ctx(p)
    parse, precision, no_effect, not_read, unknown = {}, [], [], [], []
    for name, value in p.items():
        cond = _CONDITION_OF.get(name)
        if cond is not None and not cond[0](ctx):
            not_read.append((name, cond[1]))
            if unread != "error":
                continue  # dropped, as the class executable ignores it; validated below otherwise
        if name in known or name in PT_KEYS:
            parse[name] = value
        elif name in prec_defaults:
            if _is_number(prec_defaults[name]) and not _is_number(value):
                raise CosmoSevereError(f"Precision parameter '{name}': could not read '{value}' as a number")
            if name in HONOURED_PRECISION:
                stage, field, conv = HONOURED_PRECISION[name]
                precision.append((stage, field, conv(float(value))))
            else:
                no_effect.append(name)
        elif name in FLAGS:
            no_effect.append(name)
        elif name in FEATURE_DEFAULTS:
            feature, accepted = FEATURE_DEFAULTS[name]
            if not _matches(value, accepted):
                raise NotImplementedOutputError(f"Parameter '{name}' = '{value}': {feature} is not implemented in "
                                                f"boltzax (accepted: {', '.join(map(str, accepted)) or 'absent'})")
            no_effect.append(name)
        elif name in names:
            raise NotImplementedOutputError(f"Parameter '{name}': a CLASS input of a feature boltzax does not "
                                            "implement")
        else:
            unknown.append(name)
    if unknown:
        hints = {n: difflib.get_close_matches(n, sorted(names | known), n=3) for n in unknown}
        hint = "; ".join(f"'{n}': did you mean {h}?" for n, h in hints.items() if h)
        raise CosmoSevereError(f"Unknown parameter(s) {unknown}: not a CLASS v3.4.1 input (CLASS's input.c and "
                               f"precisions.h do not read it) nor a boltzax option" + (f" ({hint})" if hint else ""))
    msg = ""
    if not_read:
        msg = "Class did not read input parameter(s): " + ", ".join(
            f"{n} (CLASS reads it only when {why})" for n, why in not_read)
        if unread == "warn":
            warnings.warn(msg, stacklevel=3)
    return Screened(parse=parse, precision=tuple(precision), no_effect=tuple(no_effect),
                    unread=tuple(n for n, _ in not_read), unread_message=msg if unread == "error" else "")


def apply_precision(prec, overrides: tuple):
    """A copy of the `Precision` ``prec`` with the honoured CLASS precision parameters applied."""
    if not overrides:
        return prec
    stages: dict = {}
    for stage, field, value in overrides:
        if stage == "halofit":  # HaloFit's own precision (classy_api.nonlinear._nl_sizes)
            continue
        stages.setdefault(stage, {})[field] = value
    kw = {s: dataclasses.replace(getattr(prec, s), **f) for s, f in stages.items()}
    return dataclasses.replace(prec, name=prec.name + "+class", **kw)
