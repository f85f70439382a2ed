"""Per-wavenumber time series of the scalar perturbations, as CLASS v3.4.1 stores them for ``k_output_values``
(perturbations.c: perturbations_prepare_k_output for the column names, perturbations_print_variables for the
values) and classy's ``get_perturbations()`` returns them.

Columns (CLASS units: tau [Mpc], theta [1/Mpc], CLASS's rho = 8 pi G / 3 rho [1/Mpc^2]):

  tau [Mpc], a, delta_g, theta_g, shear_g, G_g_0, G_g_1, G_g_2 (the first three polarisation multipoles of
  CLASS's 'optimal' hierarchy), delta_b, theta_b, psi, phi, delta_ur, theta_ur, shear_ur, delta_cdm, theta_cdm,
  per ncdm species i: delta_ncdm[i], theta_ncdm[i], shear_ncdm[i], cs2_ncdm[i] (delta p / delta rho), and for
  a dark-energy fluid delta_rho_fld, rho_plus_p_theta_fld, delta_p_fld (absolute: CLASS rho units).

boltzax integrates in synchronous gauge (equations.py).  The output follows CLASS's two gauges:

* ``gauge = 'synchronous'`` (CLASS's default, get_perturbations_in_current_gauge = no): CLASS converts the
  synchronous variables to the conformal Newtonian gauge before storing them, with
  alpha = (h' + 6 eta') / (2 k^2):
      delta_N = delta_S - 3 (1 + w) aH alpha,   theta_N = theta_S + k^2 alpha
  (4 aH alpha for photons and massless neutrinos, 3 aH alpha for baryons and CDM, 3 aH (1 + w_ncdm) alpha for
  ncdm); the shears and polarisation multipoles are gauge invariant; cs2_ncdm becomes
  (cs2_S delta_S + alpha p'/rho) / delta_N with p'/rho = -aH w (5 - pseudo_p / p) (Lesgourgues & Tram 2011,
  arXiv:1104.2935 eq. 3.3 with energy conservation); psi = aH alpha + alpha', phi = eta - aH alpha.  The fluid
  columns are NOT converted (CLASS stores ppw->delta_rho_fld etc. as computed, in synchronous gauge).
  This is the transformation of Ma & Bertschinger 1995 (astro-ph/9506072) eqs. 18 and 27 for a time shift
  tau_N = tau_S + alpha, under which a background scalar rho(tau) gives delta rho_N = delta rho_S + rho' alpha,
  rho' = -3 aH (rho + p) (the sign checked on the CDM continuity equation: with delta_N = delta_S - 3 aH alpha
  and theta_N = k^2 alpha, delta_N' = -theta_N + 3 phi' holds identically given h' = 2 k^2 alpha - 6 eta').
  With ``get_perturbations_in_current_gauge = yes`` the synchronous values are stored (theta_cdm = 0).
* ``gauge = 'newtonian'``: CLASS integrates in Newtonian gauge.  Here the synchronous solution is transformed as
  above, including the fluid: delta_rho_fld += rho' alpha, rho_plus_p_theta_fld += (rho + p) k^2 alpha,
  delta_p_fld += p' alpha, p' = rho (w' - 3 aH w (1 + w)).  This is exact where CLASS's equations are gauge
  covariant (everything but its approximation schemes).  Within the radiation-streaming approximation the
  photon and massless-neutrino values are CLASS's NEWTONIAN-gauge RSA formulas (perturbations_rsa_delta_and_theta,
  rsa_MD_with_reio: delta_g = -4 phi - 4 kappa' theta_b / k^2, theta_g = 6 phi' + 3/k^2 (kappa'' theta_b +
  kappa' (-aH theta_b + c_b^2 k^2 delta_b + k^2 phi)), delta_ur = -4 phi, theta_ur = 6 phi', with CLASS's
  phi' = -aH psi + 3/2 a^2 (rho + p) theta / k^2 summed over the non-RSA species, Newtonian variables), not the
  transformed synchronous ones: the two approximations differ by O((aH/k)^2).  Where CLASS's Newtonian run
  evolves differently from its synchronous one (its ur and ncdm fluid approximations use metric_ufa_class =
  -6 phi' in Newtonian gauge against h'/2 in synchronous gauge: not a gauge transformation of each other; the
  Newtonian RSA also drops the radiation from phi') the output here is the synchronous evolution, transformed.

Approximations: boltzax has no tight-coupling approximation (its Thomson terms are exact), so before CLASS
switches tight coupling off its stored shear_g, G_g_l and theta_g are CLASS's first-order TCA values, not the
exact ones given here.  In the radiation-streaming regime both codes store the RSA values (shear and
polarisation 0); in the ur fluid regime shear_ur is the fluid's; in the ncdm fluid regime the ncdm columns are
the fluid's (cs2_ncdm the adiabatic sound speed), as CLASS.

delta_p_fld is CLASS's PPF pressure perturbation from the fluid Euler equation (perturbations_total_stress_energy,
use_ppf): delta_p = ((rho + p) theta_fld)' + 4 aH (rho + p) theta_fld - (rho + p) metric_euler) / k^2
(metric_euler = 0 in synchronous gauge); the derivative along the solution is taken exactly by forward-mode
differentiation in ln a, where CLASS writes its analytic derivative (the same quantity: it differs by the terms
CLASS's formula neglects, e.g. the baryon-photon drag in the other species' Euler equation).

Times: by default each mode's series starts at its initial time tau_ini = min(k_tau_ini / k, tau_ini_max)
(solver.py; CLASS starts at k tau ~ 0.07 with its tight-coupling approximation), with ``n_early`` times
log-spaced up to the first CMB source time, then CLASS's CMB source time sampling (sampling.py) to tau0; the
integration steps ON these times (solver.solve_at_output_times).  CLASS stores a row at every step of its
adaptive integrator instead (a cosmology- and k-dependent count).  Extra times can be requested: they are merged
into the grid (so the integration also steps on them).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from .equations import _ncdm_sources, ncdm_background, ncdm_eps
from .outputs import _ncdm_shear, synchronous_transfers
from .solver import solve_at_output_times


def column_names(n_ncdm: int, has_fld: bool, has_ur: bool = True, has_cdm: bool = True,
                 ncdm_columns: bool = True) -> list[str]:
    """CLASS's scalar column titles in order (perturbations_prepare_k_output, 'optimal' hierarchy, no
    perturbed recombination, no idr/idm/dcdm/dr/scf).  ``ncdm_columns``: CLASS writes the ncdm columns only
    when density or velocity transfers or delta_m are computed (e.g. output mPk, mTk)."""
    names = ["tau [Mpc]", "a", "delta_g", "theta_g", "shear_g", "G_g_0", "G_g_1", "G_g_2", "delta_b", "theta_b",
             "psi", "phi"]
    if has_ur:
        names += ["delta_ur", "theta_ur", "shear_ur"]
    if has_cdm:
        names += ["delta_cdm", "theta_cdm"]
    if n_ncdm and ncdm_columns:
        for i in range(n_ncdm):
            names += [f"delta_ncdm[{i}]", f"theta_ncdm[{i}]", f"shear_ncdm[{i}]", f"cs2_ncdm[{i}]"]
    if has_fld:
        names += ["delta_rho_fld", "rho_plus_p_theta_fld", "delta_p_fld"]
    return names


def _ncdm_cs2(yc, psi, bg, lay, mode):
    """delta p / delta rho per ncdm species (CLASS perturbations_print_variables): from the hierarchy
    (1/3 sum w q^4/eps Psi_0) / (sum w q^2 eps Psi_0); in the fluid approximation the adiabatic sound speed
    w (1 - (3 w - 2 + pseudo_p / p) / (3 + 3 w))."""
    if mode >= 3:
        rn, pn, ppn = ncdm_background(bg, pseudo=True)
        w = pn / rn
        return w * (1.0 - (3.0 * w - 2.0 + ppn / pn) / (3.0 + 3.0 * w))
    q, w = bg["q_ncdm"], bg["w_ncdm"]
    eps = ncdm_eps(bg)
    dp = jnp.sum(w * q**4 / eps * psi[..., 0], -1) / 3.0
    drho = jnp.sum(w * q**2 * eps * psi[..., 0], -1)
    return dp / drho


# CLASS precisions.h c_gamma_k_H_square_max: where X = (c_Gamma k / aH)^2 cs2_fld exceeds it CLASS sets
# Gamma_fld = Gamma_fld' = 0 (perturbations_total_stress_energy)
C_GAMMA_K_H_SQUARE_MAX = 1.0e3


def _fld_a2(y, k, bg, lay, mode):
    """(a^2 delta rho_fld, a^2 (rho+p) theta_fld), synchronous gauge, as CLASS's perturbations_total_stress_energy
    (use_ppf) stores them: the PPF expressions of equations._ppf, except that where X > c_gamma_k_H_square_max
    CLASS takes Gamma = Gamma' = 0 (boltzax's solver integrates Gamma ~ S / X^2 there; its effect on the metric is
    < 1e-6, but in Newtonian gauge delta rho_fld = -2/3 k^2 Gamma / a^2 - 3 aH (rho+p) theta_fld / k^2 is itself
    small and the two differ by O(1): the output follows CLASS).  Other species' totals as in `metric`."""
    from .equations import C_GAMMA_OVER_C_FLD

    yc, psi = lay.split(y)
    a2r = bg["a2rho"]
    r_g, r_b, r_c, r_ur = a2r[0], a2r[1], a2r[2], a2r[3]
    rsa = mode % 3 == 2
    D = r_c * yc[0] + r_b * yc[1]
    T = r_b * yc[2]
    rpp = r_c + r_b + 4.0 / 3.0 * (r_g + r_ur)
    if not rsa:
        D = D + r_g * yc[lay.i_g] + r_ur * yc[lay.i_ur]
        T = T + 4.0 / 3.0 * (r_g * yc[lay.i_g + 1] + r_ur * yc[lay.i_ur + 1])
    if lay.n_ncdm:
        dn, tn = _ncdm_sources(yc, psi, k, bg, lay, mode)
        rn, pn = ncdm_background(bg)
        D, T, rpp = D + jnp.sum(dn), T + jnp.sum(tn), rpp + jnp.sum(rn + pn)
    k2 = k * k
    aH = bg["aH"]
    s2sq = 1.0 - 3.0 * bg["K"] / k2
    a2rf = a2r[5] * (1.0 + bg["w_fld"])
    X = (C_GAMMA_OVER_C_FLD * k / aH) ** 2 * bg["cs2_fld"]
    cut = X > C_GAMMA_K_H_SQUARE_MAX
    gam = jnp.where(cut, 0.0, yc[lay.i_fld])
    alpha = (yc[3] + 1.5 / (k2 * s2sq) * (D + 3.0 * aH / k2 * T) - gam) / aH
    S = a2rf * 1.5 / (k2 * aH) * (T / rpp + k2 * alpha)
    # S - (Gamma' + aH Gamma) / aH, Gamma' = aH (S / (1+X) - (1+X) Gamma); = S where CLASS cuts
    src = jnp.where(cut, S, X * (S / (1.0 + X) + gam))
    a2rpt_f = a2rf * T / rpp - 2.0 / 3.0 * k2 * aH / (1.0 + 4.5 * rpp / (k2 * s2sq)) * src
    a2drho_f = -2.0 / 3.0 * k2 * s2sq * gam - 3.0 * aH / k2 * a2rpt_f
    return a2drho_f, a2rpt_f


def _along(f, y, k, x, tab, lay, mode):
    """(f, df/dtau) of f(y, bg) along the solution at ln a = x: forward-mode derivative of
    f(y + (x' - x) dy/dln a, tab.at(x')) in x', times aH."""
    from .equations import derivs_lna

    dy = derivs_lna(x, y, k, tab, lay, mode)
    g = lambda xx: f(y + (xx - x) * dy, tab.at(xx))  # noqa: E731
    val, dval = jax.jvp(g, (x,), (jnp.ones_like(x),))
    aH = tab.at(x)["aH"]
    return val, jax.tree_util.tree_map(lambda d: d * aH, dval)


def scalar_columns(y, k, bg, lay, mode, tab, gauge: str = "synchronous", current_gauge: bool = False) -> dict:
    """CLASS's k_output_values columns (module docstring) of one mode at one time: dict name -> scalar
    (without 'tau [Mpc]' and 'a'); ``gauge`` 'synchronous' or 'newtonian',
    ``current_gauge``: CLASS's get_perturbations_in_current_gauge (synchronous gauge only)."""
    k2 = k * k
    x = bg["lna"]
    a2 = bg["a"] ** 2
    aH = bg["aH"]
    yc, psi = lay.split(y)
    tr = synchronous_transfers(y, k, bg, lay, mode)
    rsa = mode % 3 == 2
    h_p, eta, eta_p = tr["h_prime"], tr["eta"], tr["eta_prime"]
    alpha = (h_p + 6.0 * eta_p) / (2.0 * k2)
    out = dict(delta_g=tr["d_g"], theta_g=tr["t_g"], delta_b=tr["d_b"], theta_b=tr["t_b"], psi=tr["psi"],
               phi=tr["phi"], delta_ur=tr["d_ur"], theta_ur=tr["t_ur"], delta_cdm=tr["d_cdm"],
               theta_cdm=jnp.zeros(()))
    zero = jnp.zeros(())
    if rsa:
        out.update(shear_g=zero, G_g_0=zero, G_g_1=zero, G_g_2=zero, shear_ur=zero)
    else:
        out.update(shear_g=yc[lay.i_g + 2], G_g_0=yc[lay.i_pol], G_g_1=yc[lay.i_pol + 1],
                   G_g_2=yc[lay.i_pol + 2], shear_ur=yc[lay.i_ur + 2])
    if lay.n_ncdm:
        rn, pn, ppn = ncdm_background(bg, pseudo=True)
        out.update(delta_ncdm=tr["d_ncdm"], theta_ncdm=tr["t_ncdm"],
                   shear_ncdm=_ncdm_shear(yc, psi, bg, lay, mode) / (rn + pn),
                   cs2_ncdm=_ncdm_cs2(yc, psi, bg, lay, mode))
    if lay.fld:
        def fld(yy, bb):
            d, t = _fld_a2(yy, k, bb, lay, mode)
            return d / bb["a"] ** 2, t / bb["a"] ** 2, bb["w_fld"]

        (drho_f, rpt_f, w), (_, rpt_f_p, w_p) = _along(fld, y, k, x, tab, lay, mode)
        # CLASS: delta_p_fld = ((rho+p) theta_fld' + 4 aH (rho+p) theta_fld - (rho+p) metric_euler) / k^2,
        # metric_euler = 0 in synchronous gauge
        out.update(delta_rho_fld=drho_f, rho_plus_p_theta_fld=rpt_f, delta_p_fld=(rpt_f_p + 4.0 * aH * rpt_f) / k2)

    if gauge == "synchronous" and current_gauge:
        return _split_ncdm(out, lay)

    # --- to the conformal Newtonian gauge (CLASS perturbations_print_variables; module docstring)
    for s, fac in (("g", 4.0), ("b", 3.0), ("ur", 4.0), ("cdm", 3.0)):
        out[f"delta_{s}"] = out[f"delta_{s}"] - fac * aH * alpha
        out[f"theta_{s}"] = out[f"theta_{s}"] + k2 * alpha
    if lay.n_ncdm:
        w_n = pn / rn
        p_prime_over_rho = -aH * w_n * (5.0 - ppn / pn)
        d_syn = out["delta_ncdm"]
        d_new = d_syn - 3.0 * aH * (1.0 + w_n) * alpha
        out["cs2_ncdm"] = (out["cs2_ncdm"] * d_syn + p_prime_over_rho * alpha) / d_new
        out["delta_ncdm"] = d_new
        out["theta_ncdm"] = out["theta_ncdm"] + k2 * alpha
    if gauge == "synchronous":
        return _split_ncdm(out, lay)  # CLASS leaves the fluid columns in synchronous gauge

    if lay.fld:
        rho_f = bg["a2rho"][5] / a2
        rho_f_p = -3.0 * aH * (1.0 + w) * rho_f
        p_f_p = rho_f * (w_p - 3.0 * aH * w * (1.0 + w))  # p' = w' rho + w rho'
        out["delta_rho_fld"] = out["delta_rho_fld"] + rho_f_p * alpha
        out["rho_plus_p_theta_fld"] = out["rho_plus_p_theta_fld"] + (1.0 + w) * rho_f * k2 * alpha
        out["delta_p_fld"] = out["delta_p_fld"] + p_f_p * alpha
    if rsa:
        out.update(_newtonian_rsa(y, k, bg, lay, mode, tab, out))
    return _split_ncdm(out, lay)


def _split_ncdm(out, lay):
    """The per-species ncdm arrays as CLASS's scalar columns 'delta_ncdm[i]' ..."""
    for name in ("delta_ncdm", "theta_ncdm", "shear_ncdm", "cs2_ncdm"):
        if name in out:
            v = out.pop(name)
            out.update({f"{name}[{i}]": v[i] for i in range(lay.n_ncdm)})
    return out


def _newtonian_rsa(y, k, bg, lay, mode, tab, new):
    """CLASS's Newtonian-gauge RSA photon and massless-neutrino values (perturbations_rsa_delta_and_theta,
    rsa_MD_with_reio) from the Newtonian variables ``new``; phi' as CLASS's perturbations_einstein computes it
    before the RSA radiation is added: -aH psi + 3/2 a^2 (rho + p) theta / k^2 over the other species."""
    k2 = k * k
    aH, dk, ddk, cb2 = bg["aH"], bg["dkappa"], bg["ddkappa"], bg["cb2"]
    a2r = bg["a2rho"]
    r_b, r_c = a2r[1], a2r[2]
    a2rpt = r_b * new["theta_b"] + r_c * new["theta_cdm"]
    if lay.n_ncdm:
        rn, pn = ncdm_background(bg)
        a2rpt = a2rpt + jnp.sum((rn + pn) * new["theta_ncdm"])
    if lay.fld:
        a2rpt = a2rpt + bg["a"] ** 2 * new["rho_plus_p_theta_fld"]
    phi, psi = new["phi"], new["psi"]
    phi_p = -aH * psi + 1.5 * a2rpt / k2
    tb, db = new["theta_b"], new["delta_b"]
    d_g = -4.0 * phi - 4.0 / k2 * dk * tb
    t_g = 6.0 * phi_p + 3.0 / k2 * (ddk * tb + dk * (-aH * tb + cb2 * k2 * db + k2 * phi))
    return dict(delta_g=d_g, theta_g=t_g, delta_ur=-4.0 * phi, theta_ur=6.0 * phi_p)


def default_tau_grid(res, precision, k, n_early: int = 300):
    """Output times [Mpc] (n_k, n_early + n_tau): per mode, ``n_early`` + (front padding of CLASS's source
    sampling) times log-spaced from the mode's start tau_ini(k) to the first CMB source time, then CLASS's
    source time sampling to tau0 (sources.default_tau)."""
    from .sampling import source_tau_start
    from .sources import default_tau

    pp, sp = precision.perturbations, precision.sources
    src = default_tau(res, sp)  # front-padded with times below its first node t_first
    n_tau = src.shape[0]
    t_first = source_tau_start(res.background, res.thermo, sp.start_sources_at_tau_c_over_tau_h)
    pad = jnp.sum(src < t_first)
    m = n_early + pad
    j = jnp.arange(n_early + n_tau)

    def one(kk):
        t0 = jnp.minimum(pp.k_tau_ini / kk, pp.tau_ini_max)
        early = t0 * (t_first / t0) ** (j / m)
        return jnp.where(j < m, early, src[jnp.clip(j - n_early, 0, n_tau - 1)])

    return jax.vmap(one)(jnp.asarray(k, dtype=float))


@functools.partial(jax.jit, static_argnames=("precision", "variants", "n_early"))
def _timeseries(res, precision, k, tau_extra, variants, n_early):
    """Columns for every (gauge, current_gauge) in ``variants`` (one compiled program for all of them):
    tuple over variants of (columns on the default grid, columns at tau_extra)."""
    from ..pipeline import perturbation_tables

    pp, sp = precision.perturbations, precision.sources
    tab = perturbation_tables(res, pp)
    grid = default_tau_grid(res, precision, k, n_early)
    n_def = grid.shape[1]
    full = jnp.concatenate([grid, tau_extra], axis=1)
    order = jnp.argsort(full, axis=1)
    full = jnp.take_along_axis(full, order, axis=1)
    inv = jnp.argsort(order, axis=1)

    def out_fn(y, kk, bg, aux_j, lay, mode):
        return tuple(scalar_columns(y, kk, bg, lay, mode, tab, g, c) for g, c in variants)

    def one(args):
        kk, taus = args
        lna = tab.lna_of_tau(taus)
        cols = solve_at_output_times(kk[None], lna, tab, pp, out_fn, jnp.zeros_like(lna), n_sub=sp.sub_steps,
                                     n_pre=1, n_groups=1)
        cols = jax.tree_util.tree_map(lambda v: v[:, 0], cols)
        for c in cols:
            c["tau [Mpc]"] = taus
            c["a"] = jnp.exp(lna)
        return cols

    cols = jax.lax.map(one, (jnp.asarray(k, dtype=float), full))

    def take(v, idx):
        ix = idx.reshape(idx.shape + (1,) * (v.ndim - 2))
        return jnp.take_along_axis(v, ix, axis=1)

    return tuple((jax.tree_util.tree_map(lambda v: take(v, inv[:, :n_def]), c),
                  jax.tree_util.tree_map(lambda v: take(v, inv[:, n_def:]), c)) for c in cols)


def perturbation_timeseries(res, precision, k, tau=None, gauge="synchronous", current_gauge: bool = False,
                            n_early: int = 300, with_default_grid: bool = False):
    """CLASS's k_output_values time series for wavenumbers k [1/Mpc] (module docstring).

    Returns a dict CLASS column name -> array (n_k, n_times) (`column_names`), with 'tau [Mpc]' and
    'a': on the default grid (`default_tau_grid`) when ``tau`` is None, otherwise at the times ``tau`` [Mpc]
    ((n_times,) or (n_k, n_times), inside each mode's integration), which are then merged into the integration
    grid.  ``gauge``: 'synchronous' or 'newtonian', or a tuple of (gauge, current_gauge) pairs, which returns a
    tuple of such dicts from one solve.  ``res``: `boltzax.pipeline.compute` Results; ``precision``: a Precision
    or preset name (static).  ``with_default_grid`` (with ``tau``): return (at tau, on the default grid), both
    from the same solve.  Normalisation: CLASS's, curvature R = 1 initially."""
    from ..precision import get_precision

    variants = tuple(gauge) if isinstance(gauge, (tuple, list)) else ((gauge, bool(current_gauge)),)
    variants = tuple((str(g), bool(c)) for g, c in variants)
    for g, _ in variants:
        if g not in ("synchronous", "newtonian"):
            raise ValueError(f"gauge must be 'synchronous' or 'newtonian', not {g!r}")
    precision = get_precision(precision)
    k = jnp.atleast_1d(jnp.asarray(k, dtype=float))
    if tau is None:
        extra = jnp.zeros((k.shape[0], 0))
    else:
        extra = jnp.asarray(tau, dtype=float)
        if extra.ndim == 1:
            extra = jnp.broadcast_to(extra, (k.shape[0], extra.shape[0]))
    outs = _timeseries(res, precision, k, extra, variants, int(n_early))
    if tau is not None and with_default_grid:
        at, grid = tuple(o[1] for o in outs), tuple(o[0] for o in outs)
        return (at, grid) if isinstance(gauge, (tuple, list)) else (at[0], grid[0])
    outs = tuple(o[0] if tau is None else o[1] for o in outs)
    return outs if isinstance(gauge, (tuple, list)) else outs[0]


__all__ = ["column_names", "default_tau_grid", "perturbation_timeseries", "scalar_columns"]
