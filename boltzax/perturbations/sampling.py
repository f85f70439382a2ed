"""Wavenumber and conformal-time sampling of the CMB source functions, CLASS v3.4.1's rules with static sizes.

k (CLASS perturbations.c, perturbations_get_k_list, scalars, output tCl/pCl/lCl):
  k_min = k_min_tau0 / tau0 (flat); sqrt(-K + (k_min_tau0 / tau0 / angular_rescaling)^2) (open);
      sqrt((8 - 1e-4) K) (closed: q = sqrt(k^2 + K) = 3 sqrt(K) minus a tiny decrement);
  from k_min to k_max_cmb = k_max_tau0_over_l_max l_max / tau0 / angular_rescaling, linear steps
      step(k) = k_rec [k_step_super + (tanh((k - k_rec)/(k_rec k_step_transition)) + 1)/2 (k_step_sub - k_step_super)]
                * (k^2/s + 1) / (k^2/s + 1/k_step_super_reduction),   k_rec = 2 pi / r_s(z_rec), s = H0^2 + |K|;
  then (CMB lensing in CLASS's 'full Limber' scheme: k_max = k_max_limber_over_l_max_scalars l_max) logarithmic
      steps of 1/(k_per_decade_for_pk + (k_per_decade_for_bao - k_per_decade_for_pk)
                  (1 - tanh((ln(k / (k_bao_center k_rec)) / ln k_bao_width)^4))) decades.
  angular_rescaling = r_a(z_rec) / (tau0 - tau_rec) (thermodynamics.c) is 1 in flat space.
  CLASS's list has a cosmology-dependent length; here the SAME density is sampled with a static number of
  nodes: the node index n(k) = int dk / step(k) (+ the log part) is inverted on a uniform grid of n_k values.
  n_k defaults to the length of CLASS's list at the fiducial cosmology for the requested l_max (`class_k_count`).

tau (perturbations.c, perturbations_timesampling_for_sources, with CMB):
  tau_ini: where tau_c / tau_h = a H / kappa' = start_sources_at_tau_c_over_tau_h (0.008), before recombination;
  then forward steps tau_{i+1} = tau_i + perturbations_sampling_stepsize / sqrt(rate_th^2 + |2 a''/a - (a'/a)^2|)
  (all at tau_i) while tau_i < tau0, the last point replaced by tau0; the step halved after
  perturbations_sampling_boost_above_age_fraction * tau0 (1.0 by default: no boost).  rate_th =
  sqrt(kappa'^2 + (kappa''/kappa')^2 + |kappa'''/kappa'|) on CLASS's thermodynamics table rows (thermodynamics.c
  thermodynamics_lists: Nz_log = 5000 rows log-spaced from z = 5e6 to 1e4, Nz_lin = 20000 linear to 50,
  50/1.5e-2 rows linear to 0), smoothed there by a moving average over +-thermo_rate_smoothing_radius = 50 rows
  (tools/arrays.c array_smooth; thermodynamics.c "details of smoothing unimportant"), interpolated in z.
  CLASS's count (~600) depends on the cosmology: here it is computed in a static-length scan and the list is
  padded IN FRONT to the static n_tau with times between tau_ini/2 and tau_ini (before the sources start: the
  visibility and e^-kappa vanish there, and the lensing source is only used after tau_rec).  The node
  positions matter beyond the line-of-sight quadrature: the source solve steps on them
  (solver.solve_at_output_times).  An earlier version inverted the unsmoothed cumulative density on n_tau
  static nodes (steps 0.77-2.1 x CLASS's): it gave EE 1.4e-3 at l ~ 840 against CLASS, where CLASS's own
  nodes give 2e-5 (session 6, CHANGELOG.md).

Both samplings are returned under stop_gradient: they define quadrature nodes, not physics.
"""

from __future__ import annotations

import dataclasses
import math

import interpax
import jax
import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True)
class KSamplingRule:
    """CLASS precisions.h parameters of the scalar CMB k list (defaults = CLASS v3.4.1)."""

    k_min_tau0: float = 0.1
    k_max_tau0_over_l_max: float = 1.8
    k_step_sub: float = 0.05
    k_step_super: float = 0.002
    k_step_transition: float = 0.2
    k_step_super_reduction: float = 0.1
    k_per_decade_for_pk: float = 10.0
    k_per_decade_for_bao: float = 70.0
    k_bao_center: float = 3.0
    k_bao_width: float = 4.0
    k_max_limber_over_l_max_scalars: float = 0.001
    # with a nonlinear method CLASS continues the scalar list to max(P_k_max, nonlinear_min_k_max) [1/Mpc]
    # (perturbations.c, perturbations_get_k_list: k_max = MAX(k_max, ppr->nonlinear_min_k_max)); the
    # full-Limber lensing integral then runs to its last k (transfer.c).  0: no nonlinear method.
    k_max_nonlinear: float = 0.0


# CLASS's fiducial numbers (Planck 2018 point, tests/reference fid: tau0, r_s(z_rec), H0 in 1/Mpc), used only
# to fix the STATIC number of k nodes: the length of CLASS's list there
_FID_TAU0 = 14150.08
_FID_RS_REC = 144.65
_FID_H0 = 0.6732117 / 2997.92458


def _k_step(k, k_rec, s, r: KSamplingRule, xp=jnp):
    """CLASS's linear k step [1/Mpc] below k_max_cmb."""
    step = (r.k_step_super + 0.5 * (xp.tanh((k - k_rec) / k_rec / r.k_step_transition) + 1.0)
            * (r.k_step_sub - r.k_step_super)) * k_rec
    return step * (k * k / s + 1.0) / (k * k / s + 1.0 / r.k_step_super_reduction)


def _k_per_decade(k, k_rec, r: KSamplingRule, xp=jnp):
    """CLASS's number of k per decade above k_max_cmb (BAO-enhanced)."""
    x = (xp.log(k) - xp.log(r.k_bao_center * k_rec)) / math.log(r.k_bao_width)
    return r.k_per_decade_for_pk + (r.k_per_decade_for_bao - r.k_per_decade_for_pk) * (1.0 - xp.tanh(x**4))


def class_k_list(tau0, rs_rec, H0, K, l_max, r: KSamplingRule = KSamplingRule(), angular_rescaling=1.0,
                 lensing=True):
    """CLASS's scalar k list itself (numpy, host side; used for the static count and in tests)."""
    k_rec = 2.0 * math.pi / rs_rec
    s = H0 * H0 + abs(K)
    if K == 0:
        k = r.k_min_tau0 / tau0
    elif K < 0:
        k = math.sqrt(-K + (r.k_min_tau0 / tau0 / angular_rescaling) ** 2)
    else:
        k = math.sqrt((8.0 - 1e-4) * K)
    k_cmb = r.k_max_tau0_over_l_max * l_max / tau0 / angular_rescaling
    k_max = max(k_cmb, r.k_max_limber_over_l_max_scalars * l_max) if lensing else k_cmb
    if r.k_max_nonlinear > 0:
        k_max = max(k_max, r.k_max_nonlinear)
    ks = [k]
    while k < k_cmb:
        k += float(_k_step(k, k_rec, s, r, np))
        ks.append(k)
    while k < k_max:
        k *= 10.0 ** (1.0 / float(_k_per_decade(k, k_rec, r, np)))
        ks.append(k)
    return np.asarray(ks)


def class_k_count(l_max: int, r: KSamplingRule = KSamplingRule(), lensing=True) -> int:
    """Length of CLASS's scalar k list at the fiducial cosmology (static node count; 530 for l_max = 2500
    with CMB lensing, as CLASS's own run)."""
    return int(class_k_list(_FID_TAU0, _FID_RS_REC, _FID_H0, 0.0, l_max, r, lensing=lensing).size)


def source_k_sampling(tau0, rs_rec, H0, K, angular_rescaling, l_max: int, n_k: int,
                      r: KSamplingRule = KSamplingRule(), lensing=True, n_fine: int = 4000):
    """n_k wavenumbers [1/Mpc] from k_min to k_max distributed with CLASS's node density (module docstring).
    Inputs may be traced (tau0 [Mpc], rs_rec [Mpc], H0 [1/Mpc], K [1/Mpc^2], angular_rescaling); l_max, n_k
    static.  Under stop_gradient."""
    tau0, rs_rec, H0, K, ar = (jax.lax.stop_gradient(jnp.asarray(v, dtype=float))
                               for v in (tau0, rs_rec, H0, K, angular_rescaling))
    k_rec = 2.0 * jnp.pi / rs_rec
    s = H0 * H0 + jnp.abs(K)
    k_min = jnp.where(K == 0, r.k_min_tau0 / tau0,
                      jnp.where(K < 0, jnp.sqrt(jnp.abs(-K + (r.k_min_tau0 / tau0 / ar) ** 2)),
                                jnp.sqrt((8.0 - 1e-4) * jnp.abs(K))))
    k_cmb = r.k_max_tau0_over_l_max * l_max / tau0 / ar
    k_max = jnp.maximum(k_cmb, r.k_max_limber_over_l_max_scalars * l_max) if lensing else k_cmb
    if r.k_max_nonlinear > 0:  # static: the linear programs are unchanged
        k_max = jnp.maximum(k_max, r.k_max_nonlinear)
    # node density dn/dln k on a fine log grid: k/step(k) below k_cmb, k_per_decade/ln 10 above
    lk = jnp.linspace(jnp.log(k_min), jnp.log(k_max), n_fine)
    kk = jnp.exp(lk)
    dens = jnp.where(kk <= k_cmb, kk / _k_step(kk, k_rec, s, r), _k_per_decade(kk, k_rec, r) / math.log(10.0))
    cum = jnp.concatenate([jnp.zeros(1), jnp.cumsum(0.5 * (dens[1:] + dens[:-1]) * jnp.diff(lk))])
    target = jnp.linspace(0.0, cum[-1], n_k)
    return jnp.exp(jnp.interp(target, cum, lk))


# CLASS v3.4.1 thermodynamics table (precisions.h: thermo_z_initial, thermo_z_linear, thermo_Nz_log,
# thermo_Nz_lin, reionization_z_start_max, reionization_sampling) and the rate smoothing radius
# (thermo_rate_smoothing_radius): the row structure of CLASS's smoothing
_TH_Z_INITIAL, _TH_Z_LINEAR, _TH_NZ_LOG, _TH_NZ_LIN = 5.0e6, 1.0e4, 5000, 20000
_TH_Z_REIO_MAX, _TH_REIO_SAMPLING = 50.0, 1.5e-2
_TH_RATE_SMOOTHING_RADIUS = 50


def class_thermo_z_rows() -> np.ndarray:
    """CLASS's thermodynamics table redshifts, increasing (thermodynamics.c thermodynamics_lists)."""
    n_reio = int(_TH_Z_REIO_MAX / _TH_REIO_SAMPLING)
    i = np.arange(_TH_NZ_LOG)
    z_log = np.exp((math.log(_TH_Z_INITIAL) - math.log(_TH_Z_LINEAR)) * (_TH_NZ_LOG - 1 - i) / (_TH_NZ_LOG - 1)
                   + math.log(_TH_Z_LINEAR))
    i = np.arange(_TH_NZ_LIN)
    z_lin = (_TH_Z_LINEAR - _TH_Z_REIO_MAX) * (_TH_NZ_LIN - 1 - i) / _TH_NZ_LIN + _TH_Z_REIO_MAX
    i = np.arange(n_reio)
    z_reio = _TH_Z_REIO_MAX * (n_reio - 1 - i) / n_reio
    return np.concatenate([z_log, z_lin, z_reio])[::-1]


def _moving_average(v, radius: int):
    """CLASS array_smooth: mean over rows i - radius .. i + radius, truncated at the table ends."""
    n = v.shape[0]
    c = jnp.concatenate([jnp.zeros(1), jnp.cumsum(v)])
    i = jnp.arange(n)
    lo = jnp.maximum(i - radius, 0)
    hi = jnp.minimum(i + radius, n - 1) + 1
    return (c[hi] - c[lo]) / (hi - lo)


def source_tau_start(bg, th, start_tau_c_over_tau_h: float = 0.008):
    """CLASS's first source time [Mpc]: the first time (increasing tau) at which a H / kappa' exceeds
    start_tau_c_over_tau_h (monotonic before recombination), linearly interpolated in ln(aH / kappa') between
    thermodynamics table rows.  Under stop_gradient."""
    bg, th = jax.lax.stop_gradient((bg, th))
    z_inc = th.z[::-1]
    a_inc = 1.0 / (1.0 + z_inc)
    aH_inc = a_inc * bg.model.densities(a_inc)["H"]
    f = jnp.log(aH_inc / th.kappa_dot[::-1]) - math.log(start_tau_c_over_tau_h)
    i = jnp.argmax(f > 0)
    w = f[i - 1] / (f[i - 1] - f[i])
    tau_inc = th.tau[::-1]
    return tau_inc[i - 1] + w * (tau_inc[i] - tau_inc[i - 1])


_REIO_ROWS_Z_MAX = 60.0  # rows recomputed as CLASS at reionisation: z <= 50 plus a margin for the spline end


def _class_reionisation_kappa(bg, th, z_rows):
    """(kappa', kappa'', kappa''') [1/Mpc, 1/Mpc^2, 1/Mpc^3] on CLASS's thermodynamics rows ``z_rows``
    (increasing, from 0, covering reionisation) as CLASS computes them: kappa' = (1+z)^2 n_H0 sigma_T x_e from
    the reionised x_e at each row (thermo.reionization.xe_reio on the no-reionisation history, with CLASS's
    cut at z_start: a ~1e-7 jump in x_e), and its tau-derivatives from the cubic spline through the rows,
    est-deriv ends (thermodynamics.c thermodynamics_calculate_opticals: array_spline_table_line_to_line and
    array_derive_spline_table_line_to_line in tau).  Linear interpolation of boltzax's table (dz ~ 0.17 here,
    CLASS's rows 0.015) put the source times at reionisation 3-8 % off CLASS's; the spline's response to the
    jump at z_start is a feature of CLASS's sampling that this reproduces."""
    from ..nonlinear import class_splines as cs
    from ..thermo import reionization as reio
    from ..thermo.recfast import helium_fraction

    # the no-reionisation history is smooth at low z: the cubic through boltzax's table nodes suffices
    x_before = interpax.interp1d(z_rows, th.z, th.x_e_noreio, method="cubic")
    x_re = reio.xe_reio(z_rows, x_before, th.z_reio, helium_fraction(th.YHe))
    x_e = jnp.where(th.tau_reio > 0.0, x_re, x_before)  # tau_reio = 0: no reionisation model
    pref = th.kappa_dot[0] / ((1.0 + th.z[0]) ** 2 * th.x_e[0])  # n_H0 sigma_T [1/Mpc]
    kd = (1.0 + z_rows) ** 2 * pref * x_e
    tau = bg.tau_of_z(z_rows)[::-1]  # increasing
    y = kd[::-1]
    m = cs.second_derivatives(tau, y, "est_deriv")
    h = tau[1:] - tau[:-1]
    dy = (y[1:] - y[:-1]) / h - h * (2.0 * m[:-1] + m[1:]) / 6.0
    dy_last = (y[-1] - y[-2]) / h[-1] + h[-1] * (m[-2] + 2.0 * m[-1]) / 6.0
    dy = jnp.concatenate([dy, dy_last[None]])
    return kd, dy[::-1], m[::-1]


def source_tau_sampling(bg, th, n_tau: int, start_tau_c_over_tau_h: float = 0.008, stepsize: float = 0.1,
                        boost_above_age_fraction: float = 1.0):
    """n_tau conformal times [Mpc], increasing, ending at tau0: CLASS's source time sampling (module
    docstring), front-padded to the static n_tau with times below `source_tau_start`.  From the boltzax
    Background ``bg`` and Thermo ``th``.  If CLASS's rule needs more than n_tau points the result is NaN
    (the caller reports the grid as too small).  Under stop_gradient."""
    tau_ini = source_tau_start(bg, th, start_tau_c_over_tau_h)
    bg, th = jax.lax.stop_gradient((bg, th))
    tau0 = bg.conformal_age
    # CLASS's smoothed thermodynamic rate on its own table rows (th.z is increasing)
    zr_np = class_thermo_z_rows()
    zr = jnp.asarray(zr_np)
    kd, kdd, kddd = (jnp.interp(zr, th.z, v) for v in (th.kappa_dot, th.kappa_ddot, th.kappa_dddot))
    # at reionisation, CLASS's own numbers on its own rows (boltzax's table is ~10x coarser there)
    n_lo = int(np.searchsorted(zr_np, _REIO_ROWS_Z_MAX, side="right"))
    lo = _class_reionisation_kappa(bg, th, zr[:n_lo])
    kd, kdd, kddd = (v.at[:n_lo].set(w) for v, w in zip((kd, kdd, kddd), lo))
    rate_th = _moving_average(jnp.sqrt(kd**2 + (kdd / kd) ** 2 + jnp.abs(kddd / kd)), _TH_RATE_SMOOTHING_RADIUS)

    def step(tau, _):
        z = bg.z_of_tau(tau)
        a = 1.0 / (1.0 + z)
        rho = bg.model.densities(a)
        aH = a * rho["H"]
        app_over_a = a * rho["H_prime"] + 2.0 * aH * aH  # a''/a (CLASS: H' a + 2 (aH)^2)
        rate = jnp.sqrt(jnp.interp(z, zr, rate_th) ** 2 + jnp.abs(2.0 * app_over_a - aH * aH))
        dtau = stepsize / rate / jnp.where(tau > boost_above_age_fraction * tau0, 2.0, 1.0)
        return jnp.where(tau < tau0, tau + dtau, tau), tau

    _, seq = jax.lax.scan(step, tau_ini, None, length=n_tau)
    n_lt = jnp.sum(seq < tau0)  # CLASS's points before tau0; then tau0 itself
    pad = n_tau - (n_lt + 1)
    j = jnp.arange(n_tau)
    body = jnp.where(j - pad < n_lt, seq[jnp.clip(j - pad, 0, n_tau - 1)], tau0)
    front = tau_ini * (0.5 + 0.5 * j / jnp.maximum(pad, 1))
    out = jnp.where(j < pad, front, body)
    return jnp.where(pad >= 0, out, jnp.nan)


__all__ = ["KSamplingRule", "class_k_count", "class_k_list", "source_k_sampling", "source_tau_sampling", "source_tau_start",
           "class_thermo_z_rows"]
