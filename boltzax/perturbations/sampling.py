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
  then steps dtau = perturbations_sampling_stepsize / sqrt(rate_th^2 + |2 a''/a - (a'/a)^2|) up to tau0, with
      rate_th = sqrt(kappa'^2 + (kappa''/kappa')^2 + |kappa'''/kappa'|) (thermodynamics.c; CLASS then smooths
      it over 50 table rows, "details of smoothing unimportant"), the step halved after
      perturbations_sampling_boost_above_age_fraction * tau0 (1.0 by default: no boost).
  Here the cumulative node density N(tau) = int dtau / step is evaluated on the thermodynamics table and
  inverted at n_tau uniformly spaced values (static n_tau).

Both samplings are returned under stop_gradient: they define quadrature nodes, not physics.
"""

from __future__ import annotations

import dataclasses
import math

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
    # node density dn/dln k on a fine log grid: k/step(k) below k_cmb, k_per_decade/ln 10 above
    lk = jnp.linspace(jnp.log(k_min), jnp.log(k_max), n_fine)
    kk = jnp.exp(lk)
    dens = jnp.where(kk <= k_cmb, kk / _k_step(kk, k_rec, s, r), _k_per_decade(kk, k_rec, r) / math.log(10.0))
    cum = jnp.concatenate([jnp.zeros(1), jnp.cumsum(0.5 * (dens[1:] + dens[:-1]) * jnp.diff(lk))])
    target = jnp.linspace(0.0, cum[-1], n_k)
    return jnp.exp(jnp.interp(target, cum, lk))


def source_tau_sampling(bg, th, n_tau: int, start_tau_c_over_tau_h: float = 0.008, stepsize: float = 0.1,
                        boost_above_age_fraction: float = 1.0):
    """n_tau conformal times [Mpc] from CLASS's tau_ini (tau_c/tau_h = start_tau_c_over_tau_h) to tau0 with
    CLASS's source-sampling density (module docstring), from the boltzax Background ``bg`` and Thermo ``th``.
    Under stop_gradient."""
    bg, th = jax.lax.stop_gradient((bg, th))
    # thermodynamics table, increasing tau (th.z is increasing)
    z = th.z[::-1]
    tau = th.tau[::-1]
    kd, kdd, kddd = th.kappa_dot[::-1], th.kappa_ddot[::-1], th.kappa_dddot[::-1]
    tau0 = bg.conformal_age
    a = 1.0 / (1.0 + z)
    rho = bg.model.densities(a)
    aH = a * rho["H"]
    app_over_a = a * rho["H_prime"] + 2.0 * aH * aH  # a''/a (CLASS: H' a + 2 (aH)^2)
    rate_th = jnp.sqrt(kd**2 + (kdd / kd) ** 2 + jnp.abs(kddd / kd))
    rate = jnp.sqrt(rate_th**2 + jnp.abs(2.0 * app_over_a - aH * aH))
    dens = rate / stepsize * jnp.where(tau > boost_above_age_fraction * tau0, 2.0, 1.0)
    # start: first time (increasing tau) at which aH / kappa' exceeds the threshold (monotonic before
    # recombination), linearly interpolated in ln(aH/kappa') between table rows
    f = jnp.log(aH / kd) - math.log(start_tau_c_over_tau_h)
    i = jnp.argmax(f > 0)
    w = f[i - 1] / (f[i - 1] - f[i])
    tau_ini = tau[i - 1] + w * (tau[i] - tau[i - 1])
    # cumulative node count from the table (trapezoid in tau), then from tau_ini
    cum = jnp.concatenate([jnp.zeros(1), jnp.cumsum(0.5 * (dens[1:] + dens[:-1]) * jnp.diff(tau))])
    n0 = jnp.interp(tau_ini, tau, cum)
    n1 = jnp.interp(tau0, tau, cum)
    target = jnp.linspace(n0, n1, n_tau)
    out = jnp.interp(target, cum, tau)
    return out.at[0].set(tau_ini).at[-1].set(tau0)


__all__ = ["KSamplingRule", "class_k_count", "class_k_list", "source_k_sampling", "source_tau_sampling"]
