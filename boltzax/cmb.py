"""CMB angular power spectra end to end: sources -> line of sight -> harmonic (-> lensing), CLASS's chain.

``cmb_cls(res, precision, l_max, lensing=False)`` is the native entry: from computed `Results` (background and
thermodynamics, `boltzax.compute`) to a dict of C_l with classy's keys and normalisation (``raw_cl`` /
``lensed_cl``: dimensionless C_l, not l(l+1)C_l/2pi, zero at l < 2). Stages and their CLASS files:

1. sources S(k, tau) (``perturbations/sources.py``; CLASS perturbations.c) on CLASS's k and tau sampling for
   l_unl = l_max (+ delta_l_max with lensing; CLASS input.c raises ppt->l_scalar_max by delta_l_max);
2. Delta_l(q) and the unlensed C_l (``transfer.py``, ``harmonic.py``; CLASS transfer.c, harmonic.c) to l_unl;
3. with lensing, the lensed TT, EE, TE, BB to l_max (``lensing.py``; CLASS lensing.c), computed at CLASS's l
   nodes and splined, as CLASS (``lensing_cl_at_l``).

Static structure. ``precision`` (a `Precision`), ``l_max`` and ``lensing`` are static; everything else is traced:
``jax.jit`` compiles one program per (precision, l_max, lensing) and ``jax.jacfwd`` / ``jax.vmap`` work through
``res`` (the cosmological parameters). The line-of-sight grid sizes (`transfer.GridSizes`: q points, q window per l,
early source times, lensing time grid, Limber grid) are a deterministic function of (precision, l_max): the
element-wise maximum of CLASS's counts over the SIZING cosmologies below (the Planck 2018 point and two corners
of the reference box, h 0.60 .. 0.78), plus the margins of ``TransferPrecision`` (q_window_margin = 1.05,
n_early_margin) and N_Q_MARGIN (3 %) on the q count. The l list is CLASS's for the angular rescaling
r_a/(tau0 - tau_rec), which is 1 in flat space up to CLASS's rounding: its typical outcome, 1 - 2^-51 (linear l step
39, l_sampling.FLAT_ANGULAR_RESCALING). The Limber q grid is cut at each cosmology's own
k_max (CLASS transfer_get_q_limber_list). A cosmology for which these sizes are too small gets NaN C_l
(`grids_ok`); the ``Class`` wrapper turns that into a CosmoComputationError.

Not here yet: tensor modes, curved space (the line of sight uses flat-space Bessel functions), temperature
contributions; isocurvature modes. ``check_supported`` names them.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from . import transfer as tr
from .errors import CosmoSevereError, NotImplementedOutputError
from .precision import LensingPrecision, Precision, TransferPrecision, get_precision

CL_KEYS = ("tt", "ee", "te", "bb", "pp", "tp", "ep")
# relative margin on the static q-grid size over the sizing cosmologies' largest CLASS count (static_grid_sizes);
# the padded points are masked (cost: this fraction of the line-of-sight time)
N_Q_MARGIN = 0.03

# Cosmologies that size the static line-of-sight grids (CLASS names). The Planck 2018 point (l list) and two
# corners of the tests/reference box in the numbers the sizes depend on (tau0, tau_rec, r_s, tau_cut).
SIZING_COSMOLOGIES = (
    {},  # params.PLANCK18
    {"h": 0.60, "omega_b": 0.021, "omega_cdm": 0.140, "m_ncdm": 0.30, "tau_reio": 0.03},
    {"h": 0.78, "omega_b": 0.024, "omega_cdm": 0.100, "m_ncdm": 0.02, "tau_reio": 0.10},
)


def transfer_precision(precision: Precision) -> TransferPrecision:
    """The line-of-sight settings of a `Precision` (``precision.transfer``; CLASS's defaults when None)."""
    return getattr(precision, "transfer", None) or TransferPrecision()


def lensing_precision(precision: Precision) -> LensingPrecision:
    """The lensing settings of a `Precision` (``precision.lensing``; CLASS's defaults when None)."""
    return getattr(precision, "lensing", None) or LensingPrecision()


def unlensed_l_max(l_max: int, precision: Precision, lensing: bool) -> int:
    """l up to which the unlensed C_l are computed: l_max, plus CLASS's delta_l_max with lensing."""
    if not lensing:
        return int(l_max)
    from .lensing import delta_l_max

    return int(l_max) + delta_l_max(int(l_max), lensing_precision(precision))


def source_precision_for(precision: Precision, l_unl: int) -> Precision:
    """``precision`` with the source k sampling serving l_unl (CLASS: k_max = 1.8 l_scalar_max / tau0)."""
    sp = dataclasses.replace(precision.sources, l_max_scalars=int(l_unl))
    return dataclasses.replace(precision, sources=sp)


def tau_cut(res):
    """CLASS's tau_cut (thermodynamics.c, thermodynamics_calculate_recombination_quantities) [Mpc]: walking
    from one table row below the visibility peak towards later times, the first row where g <= 1e-3 g_max
    (g_max = g at that starting row, as CLASS). Under stop_gradient (a grid choice)."""
    th = jax.lax.stop_gradient(res.thermo)
    g = th.g  # thermodynamics table, z increasing
    i = jnp.argmax(g) - 1
    g_max = g[i]
    idx = jnp.arange(g.shape[0])
    j = jnp.max(jnp.where((idx <= i) & (g <= 1e-3 * g_max), idx, 0))
    return th.tau[j]


def _sources(res, precision: Precision):
    from .perturbations.sources import scalar_sources

    return scalar_sources(res, precision)


@functools.lru_cache(maxsize=16)
def static_grid_sizes(precision: Precision, l_unl: int) -> tr.GridSizes:
    """Line-of-sight grid sizes for (precision, l_unl): deterministic, from SIZING_COSMOLOGIES (module docstring).
    Host side, cached; runs background + thermodynamics (and no perturbations) for each sizing cosmology."""
    from .l_sampling import class_angular_rescaling
    from .params import PLANCK18, from_class_dict
    from .perturbations.sources import default_k, default_tau
    from .pipeline import compute

    tp = transfer_precision(precision)
    sp = source_precision_for(precision, l_unl).sources
    sizes = []
    with jax.ensure_compile_time_eval():
        for extra in SIZING_COSMOLOGIES:
            res = compute(from_class_dict({**PLANCK18, **extra})[0], precision)
            bg, th = res.background, res.thermo
            k, tau = np.asarray(default_k(res, sp)), np.asarray(default_tau(res, sp))
            ar = class_angular_rescaling(float(th.ra_rec), float(bg.conformal_age), float(th.tau_rec), float(bg.K))
            sizes.append(tr.grid_sizes(l_unl, tp, float(bg.conformal_age), float(th.tau_rec), float(th.ra_rec), k,
                                       tau, float(tau_cut(res)), angular_rescaling=ar))
    fid = sizes[0]
    grow = ("n_win", "n_limber", "n_early", "n_lens", "n_geo")
    big = {f: max(getattr(s, f) for s in sizes) for f in grow}
    # CLASS's q count jumps with q_max (the first SOURCE k >= 1.8 l_max / tau0; one source-k step is ~10 q steps)
    # and moves with N_ur: nur (N_ur = 2.5) needs 2105 at l_max = 3000 where the sizing set gives 2074 (+1.5 %)
    big["n_q"] = int(math.ceil((1.0 + N_Q_MARGIN) * max(s.n_q for s in sizes)))
    if any(s.n_win >= s.n_q for s in sizes):  # a window clipped to the whole grid (low l_max) stays the whole grid
        big["n_win"] = big["n_q"]
    return dataclasses.replace(fid, **big)


@functools.partial(jax.jit, static_argnames=("precision", "l_max", "lensing", "sizes"))
def _cmb_spectra(res, table, precision: Precision, l_max: int, lensing: bool, sizes: tr.GridSizes, nl_corr=None):
    from .harmonic import cls_from_sources
    from .lensing import lensed_cl

    l_unl = sizes.l_max
    src, k, tau = _sources(res, source_precision_for(precision, l_unl))
    th, bg, p = res.thermo, res.background, res.params
    los = src
    if nl_corr is not None:  # CLASS transfer_perturbation_copy_sources_and_nl_corrections (classy_api.nonlinear_lensing)
        los = dict(src, phi_plus_psi=src["phi_plus_psi"] * nl_corr)
    unl, diag = cls_from_sources(los, k, tau, bg.conformal_age, th.tau_rec, th.ra_rec, tau_cut(res), p.A_s, p.n_s,
                                 p.alpha_s, p.k_pivot, table, sizes=sizes, prec=transfer_precision(precision))
    ok = diag["window_ok"]
    bad = lambda d: {n: (v if n == "ell" else jnp.where(ok, v, jnp.nan)) for n, v in d.items()}  # noqa: E731
    out = {"unlensed": bad(unl), "grids_ok": ok, "sources": (src, k, tau)}
    if lensing:
        out["lensed"] = bad(lensed_cl(unl, l_max, lensing_precision(precision), l_nodes=sizes.ls))
    return out


def cmb_spectra(res, precision: "str | Precision | None", l_max: int, lensing: bool = False, nl_corr=None) -> dict:
    """{'unlensed': raw C_l to l_unl = `unlensed_l_max`, 'lensed': lensed C_l to l_max (with lensing),
    'grids_ok': bool, 'sources': (sources, k, tau) as `scalar_sources`}: the pieces `cmb_cls` picks from (the
    ``Class`` wrapper keeps them all, as CLASS).  ``nl_corr`` (n_k, n_tau) on the source nodes, optional:
    the nonlinear factor sqrt(P_nl / P_lin) multiplying the lensing source phi + psi (CLASS transfer.c,
    transfer_perturbation_copy_sources_and_nl_corrections; `classy_api.nonlinear_lensing`); 'sources' stay
    uncorrected, as CLASS's ppt->sources."""
    from .bessel import bessel_table

    precision = get_precision(precision)
    l_max = int(l_max)
    if l_max < 2:
        raise CosmoSevereError(f"Parameter 'l_max_scalars' = {l_max}: must be >= 2")
    check_supported(res)
    sizes = static_grid_sizes(precision, unlensed_l_max(l_max, precision, lensing))
    tp = transfer_precision(precision)
    with jax.ensure_compile_time_eval():
        table = bessel_table(sizes.ls, sizes.x_max, tp.hyper_sampling_flat, tp.hyper_x_min).arrays()
    if nl_corr is not None:
        return _cmb_spectra(res, table, precision, l_max, bool(lensing), sizes, jnp.asarray(nl_corr))
    return _cmb_spectra(res, table, precision, l_max, bool(lensing), sizes)


def cmb_cls(res, precision: "str | Precision | None", l_max: int, lensing: bool = False) -> dict:
    """CMB C_l from computed `Results` ``res`` (``boltzax.compute(params, precision)``).

    Returns a dict with classy's keys ``ell, tt, ee, te, bb, pp, tp, ep`` (arrays of length l_max + 1, classy's
    dimensionless normalisation, zero at l < 2): the unlensed spectra (``raw_cl``), or with ``lensing`` the lensed
    TT, EE, TE, BB (``lensed_cl``; pp, tp, ep unlensed), computed from unlensed C_l to l_max + delta_l_max as
    CLASS.  BB is zero without lensing (scalar modes only).  ``precision`` (preset name or `Precision`), ``l_max``,
    ``lensing``: static.  Works under jit, jacfwd and vmap through ``res``; NaN C_l mean the static line-of-sight
    grids were too small for this cosmology (module docstring)."""
    out = cmb_spectra(res, precision, l_max, lensing)
    cl = out["lensed"] if lensing else out["unlensed"]
    return {n: cl[n][: int(l_max) + 1] for n in ("ell",) + CL_KEYS}


def check_supported(res) -> None:
    """NotImplementedOutputError for cosmologies whose C_l boltzax cannot compute yet (curved space), when
    ``res`` is concrete (under a trace the check is skipped)."""
    omega_k = res.params.Omega_k
    if isinstance(omega_k, jax.core.Tracer):
        return
    if np.any(np.asarray(omega_k) != 0.0):
        raise NotImplementedOutputError("CMB C_l with Omega_k != 0 (curved space: hyperspherical Bessel "
                                        "functions) are not implemented in boltzax yet")


__all__ = ["CL_KEYS", "SIZING_COSMOLOGIES", "cmb_cls", "cmb_spectra", "static_grid_sizes", "tau_cut",
           "unlensed_l_max"]
