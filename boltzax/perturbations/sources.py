"""Scalar CMB source functions S(k, tau), as CLASS v3.4.1's perturbations_sources (source/perturbations.c) in
synchronous gauge, and as classy's ``get_sources()`` returns them.

With alpha = (h' + 6 eta') / (2 k^2), alpha' = -2 aH alpha + eta - 9/2 a^2 (rho+p) sigma / k^2 (outputs.py),
the baryon velocity shifted to the Newtonian gauge, theta_b + k^2 alpha (and its derivative theta_b' + k^2
alpha'), the visibility g = kappa' e^-kappa, g' and e^-kappa, CLASS's "efficient" split temperature sources
(switch_sw = switch_isw = switch_dop = switch_pol = 1) are

  t0 = g (delta_g/4 + alpha') + g (eta - alpha' - 2 aH alpha)
       + 2 e^-kappa (eta' - (aH)' alpha - aH alpha') + (g (theta_b' + k^2 alpha') + g' (theta_b + k^2 alpha)) / k^2
  t1 = e^-kappa k (alpha' + 2 aH alpha - eta)
  t2 = g P,      p = sqrt(6) g P,      phi_plus_psi = eta + alpha'

with P = (G_0 + G_2 + 2 s_2 shear_g) / 8 (CLASS 'optimal' hierarchy, arXiv:1305.3261 eq. 2.16a; s_2 the
curvature factor of equations.s_l).  In the radiation-streaming approximation delta_g is CLASS's RSA value and
P = 0, as CLASS.  theta_b' is the right-hand side of the baryon Euler equation on the solution (no
tight-coupling approximation: the Thomson term is exact), (aH)' = a H' + (aH)^2 from the closed-form
background.  The normalisation is CLASS's: curvature R = 1 initially (eta -> 1 on super-horizon scales).

The sources use no curvature factor beyond s_2 in P (the curved radial functions are the line-of-sight
stage's business, CLASS transfer.c).
"""

from __future__ import annotations

import functools
import math

import interpax
import jax
import jax.numpy as jnp

from .equations import derivs_tau, s_l
from .outputs import synchronous_transfers
from .sampling import class_k_count, source_k_sampling, source_tau_sampling
from .solver import solve_at_output_times

SOURCE_NAMES = ("t0", "t1", "t2", "p", "phi_plus_psi")


def source_terms(y, k, bg, aux, lay, mode):
    """The five scalar sources (dict of scalars, SOURCE_NAMES) of one mode at one time, from the state y,
    the table background bg (`PertTables.at`) and aux = (g, g', e^-kappa, (aH)') at that time."""
    g, dg, emk, aH_p = aux
    k2 = k * k
    aH = bg["aH"]
    tr = synchronous_transfers(y, k, bg, lay, mode)
    eta, eta_p = tr["eta"], tr["eta_prime"]
    alpha = (tr["h_prime"] + 6.0 * eta_p) / (2.0 * k2)
    alpha_p = tr["psi"] - aH * alpha  # psi = aH alpha + alpha' (outputs.py)
    theta_b = y[2] + k2 * alpha
    theta_b_p = derivs_tau(y, k, bg, lay, mode)[2] + k2 * alpha_p
    if mode % 3 == 2:
        P = jnp.zeros(())
    else:
        s2 = s_l(k, bg["K"], 2)[2]
        P = (y[lay.i_pol] + y[lay.i_pol + 2] + 2.0 * s2 * y[lay.i_g + 2]) / 8.0
    t0 = (g * (0.25 * tr["d_g"] + alpha_p)
          + g * (eta - alpha_p - 2.0 * aH * alpha)
          + 2.0 * emk * (eta_p - aH_p * alpha - aH * alpha_p)
          + (g * theta_b_p + dg * theta_b) / k2)
    t1 = emk * k * (alpha_p + 2.0 * aH * alpha - eta)
    return dict(t0=t0, t1=t1, t2=g * P, p=math.sqrt(6.0) * g * P, phi_plus_psi=eta + alpha_p)


def thermo_at_tau(res, tau):
    """(g, g', e^-kappa, (aH)') at conformal times tau [Mpc] from the thermodynamics table (C2 cubic spline
    in z; kappa interpolated, then exponentiated) and the closed-form background."""
    th, bg = res.thermo, res.background
    z = bg.z_of_tau(tau)
    g = interpax.interp1d(z, th.z, th.g, method="cubic2", extrap=True)
    dg = interpax.interp1d(z, th.z, th.dg, method="cubic2", extrap=True)
    emk = jnp.exp(-interpax.interp1d(z, th.z, th.kappa, method="cubic2", extrap=True))
    a = 1.0 / (1.0 + z)
    rho = bg.model.densities(a)
    aH = a * rho["H"]
    aH_p = a * rho["H_prime"] + aH * aH  # (a'/a)' = a H' + (aH)^2 (CLASS perturbations_sources)
    return g, dg, emk, aH_p


def state_rate(res, tau):
    """The rate [1/Mpc] at which the perturbation state varies at conformal times tau, apart from the acoustic
    oscillation (solver.step_nodes adds that): sqrt((kappa''/kappa')^2 + |kappa'''/kappa'| + (2 aH)^2), the
    terms of CLASS's source-sampling rate (perturbations.c, perturbations_timesampling_for_sources) other than
    kappa' itself, whose tight-coupling relaxation the L-stable steps leave on its slow manifold, and the
    expansion rate.  Under stop_gradient (a grid choice)."""
    th, bg = jax.lax.stop_gradient((res.thermo, res.background))
    z = bg.z_of_tau(tau)
    kd, kdd, kddd = (jnp.interp(z, th.z, v) for v in (th.kappa_dot, th.kappa_ddot, th.kappa_dddot))
    a = 1.0 / (1.0 + z)
    aH = a * bg.model.densities(a)["H"]
    return jnp.sqrt((kdd / kd) ** 2 + jnp.abs(kddd / kd) + (2.0 * aH) ** 2)


def default_k(res, sp):
    """CLASS's scalar CMB k sampling (sampling.py) for SourcePrecision sp [1/Mpc]."""
    th, bg = res.thermo, res.background
    ar = th.ra_rec / (bg.conformal_age - th.tau_rec)  # CLASS angular_rescaling (1 in flat space)
    n_k = sp.n_k or class_k_count(sp.l_max_scalars, sp.k_rule)
    return source_k_sampling(bg.conformal_age, th.rs_rec, bg.H0, bg.K, ar, sp.l_max_scalars, n_k, sp.k_rule)


def default_tau(res, sp):
    """CLASS's source time sampling (sampling.py) for SourcePrecision sp [Mpc]."""
    return source_tau_sampling(res.background, res.thermo, sp.n_tau, sp.start_sources_at_tau_c_over_tau_h,
                               sp.sampling_stepsize, sp.boost_above_age_fraction)


@functools.partial(jax.jit, static_argnames=("precision",))
def _scalar_sources(res, precision, k, tau):
    from ..pipeline import perturbation_tables

    pp, sp = precision.perturbations, precision.sources
    tab = perturbation_tables(res, pp)
    # tau <= tau0 < tau(solver.LNA_END): every output time is inside the integration
    lna_out = tab.lna_of_tau(tau)
    aux = thermo_at_tau(res, tau)
    out = solve_at_output_times(k, lna_out, tab, pp, source_terms, aux, n_sub=sp.sub_steps,
                                n_pre=sp.pre_steps, n_groups=sp.k_groups,
                                k_sub=sp.sub_steps_k_min, tableau=sp.tableau,
                                pre_phase=sp.pre_phase, pre_dlna_max=sp.pre_dlna_max,
                                node_rate=state_rate(res, tau) if sp.node_alpha > 0 else None,
                                node_alpha=sp.node_alpha, node_k_cut=sp.node_k_cut)
    return {name: out[name].T for name in SOURCE_NAMES}


def scalar_sources(res, precision, k=None, tau=None):
    """(sources, k, tau) as classy's get_sources(): sources[name] has shape (n_k, n_tau) for the names
    't0', 't1', 't2', 'p', 'phi_plus_psi' (CLASS's synchronous-gauge split temperature sources, the E
    polarisation source and the lensing source; module docstring), normalised to curvature R = 1 initially;
    k [1/Mpc] and tau [Mpc] are CLASS's CMB sampling (sampling.py; precision.sources) unless given.

    ``res``: `boltzax.pipeline.compute` Results; ``precision``: a `Precision` (static) or a preset name.
    Jit-able and differentiable (forward mode) in the cosmological parameters; the default samplings are under
    stop_gradient."""
    from ..precision import get_precision

    precision = get_precision(precision)
    sp = precision.sources
    if k is None:
        k = default_k(res, sp)
    if tau is None:
        tau = default_tau(res, sp)
    k = jnp.asarray(k, dtype=float)
    tau = jnp.asarray(tau, dtype=float)
    return _scalar_sources(res, precision, k, tau), k, tau


__all__ = ["SOURCE_NAMES", "scalar_sources", "source_terms", "thermo_at_tau"]
