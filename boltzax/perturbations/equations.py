"""Scalar perturbation equations in synchronous gauge (Ma & Bertschinger 1995, astro-ph/9506072,
sections 4-5, with CLASS v3.4.1's variables and conventions, source/perturbations.c
`perturbations_derivs` / `perturbations_einstein`).

State vector (layout `Layout`, static sizes from `PerturbationPrecision`):
  delta_cdm, delta_b, theta_b, eta,
  photons  F_0..F_lmax_g    stored as (delta_g, theta_g, shear_g, F_3, ..., F_lmax_g),
  polarisation G_0..G_lmax_pol,
  massless neutrinos (delta_ur, theta_ur, shear_ur, F_3, ..., F_lmax_ur).
theta = (3/4) k F_1 and shear sigma = F_2 / 2 (MB95 eq. 49); CDM velocity is zero by the gauge choice.
h' is eliminated with the 00 Einstein equation (MB95 eq. 21a), eta' from the 0i equation (21b).

The right-hand side is written as d y / d ln a = (d y / d tau) / (a'/a).  Tight coupling is NOT
approximated: the Thomson terms are kept exactly and an L-stable implicit integrator resolves them.
After photon decoupling and inside the horizon, photons and massless neutrinos follow CLASS's
radiation-streaming approximation (`rsa=True`, CLASS `perturbations_rsa_delta_and_theta`,
rsa_MD_with_reio; Doran 2005, astro-ph/0503277; Blas, Lesgourgues, Tram 2011, arXiv:1104.2933 sec. 4):
the radiation multipoles are then frozen in the state vector (same shape) and replaced by their
algebraic RSA values.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp


@dataclasses.dataclass(frozen=True)
class Layout:
    """Static index layout of the state vector."""

    l_max_g: int
    l_max_pol: int
    l_max_ur: int

    @property
    def i_g(self):
        return 4

    @property
    def i_pol(self):
        return 4 + self.l_max_g + 1

    @property
    def i_ur(self):
        return self.i_pol + self.l_max_pol + 1

    @property
    def size(self):
        return self.i_ur + self.l_max_ur + 1


def _hierarchy_tail(F, k, tau, kappa):
    """d F_l / d tau for l = 3..lmax of a free-streaming hierarchy F (full array F_0..F_lmax, with
    F[2] already the true F_2 = 2 shear), damped at rate kappa (MB95 eq. 64/60), truncated at lmax with
    MB95 eq. 65: F_lmax' = k F_{lmax-1} - (lmax+1)/tau F_lmax (flat space, CLASS cotKgen = 1/tau)."""
    lmax = F.shape[0] - 1
    l = jnp.arange(3, lmax)
    mid = k / (2 * l + 1) * (l * F[2:lmax - 1] - (l + 1) * F[4:lmax + 1]) - kappa * F[3:lmax]
    last = k * F[lmax - 1] - (lmax + 1) / tau * F[lmax] - kappa * F[lmax]
    return jnp.concatenate([mid, last[None]])


def derivs_tau(y, k, bg, lay: Layout, mode: int):
    """d y / d tau at one time.  bg: dict from `PertTables.at`.

    mode (static): 0 full hierarchies; 1 massless neutrinos in CLASS's ultra-relativistic fluid
    approximation (ufa_CLASS: delta, theta, shear only; Blas, Lesgourgues & Tram 2011 sec. 3.3, CLASS
    perturbations_derivs), higher ur multipoles frozen; 2 radiation-streaming approximation (photons and
    ur algebraic, see module docstring).
    """
    rsa = mode == 2
    k2 = k * k
    tau = bg["tau"]
    aH = bg["aH"]
    a2r = bg["a2rho"]  # a^2 rho_i for (g, b, cdm, ur, lambda, fld)
    r_g, r_b, r_c, r_ur = a2r[0], a2r[1], a2r[2], a2r[3]
    dk = bg["dkappa"]
    cb2 = bg["cb2"]

    d_c, d_b, t_b, eta = y[0], y[1], y[2], y[3]
    g = y[lay.i_g:lay.i_pol]
    pol = y[lay.i_pol:lay.i_ur]
    ur = y[lay.i_ur:lay.size]

    # --- 00 Einstein equation: h' from the (non-RSA) density perturbation (CLASS perturbations_einstein:
    # h' is computed before the RSA values, which themselves depend on h')
    a2drho = r_c * d_c + r_b * d_b
    if not rsa:
        a2drho = a2drho + r_g * g[0] + r_ur * ur[0]
    h_p = (k2 * eta + 1.5 * a2drho) / (0.5 * aH)

    if rsa:
        # CLASS perturbations_rsa_delta_and_theta, synchronous gauge, rsa_MD_with_reio
        d_g = 4.0 / k2 * (aH * h_p - k2 * eta) - 4.0 / k2 * dk * (t_b + 0.5 * h_p)
        t_g = -0.5 * h_p + 3.0 / k2 * (
            bg["ddkappa"] * (t_b + 0.5 * h_p)
            + dk * (-aH * t_b + cb2 * k2 * d_b - aH * h_p + k2 * eta))
        d_ur = 4.0 / k2 * (aH * h_p - k2 * eta)
        t_ur = -0.5 * h_p
        s_g = 0.0
        s_ur = 0.0
    else:
        d_g, t_g, s_g = g[0], g[1], g[2]
        d_ur, t_ur, s_ur = ur[0], ur[1], ur[2]

    a2rpt = r_b * t_b + 4.0 / 3.0 * (r_g * t_g + r_ur * t_ur)  # a^2 (rho+p) theta
    eta_p = 1.5 * a2rpt / k2
    metric_shear = 0.5 * h_p + 3.0 * eta_p  # = k^2 alpha (CLASS metric_shear in synchronous gauge)

    R = 4.0 / 3.0 * r_g / r_b  # photon-to-baryon momentum ratio 1/R_MB (CLASS: R = 4 rho_g / 3 rho_b)
    dy_c = -0.5 * h_p
    dy_db = -t_b - 0.5 * h_p
    dy_tb = -aH * t_b + cb2 * k2 * d_b + R * dk * (t_g - t_b)

    if rsa:
        zeros = jnp.zeros(lay.size - 4)
        return jnp.concatenate([jnp.stack([dy_c, dy_db, dy_tb, eta_p]), zeros])

    # --- photons temperature (MB95 eq. 63), CLASS conventions
    F_g = g.at[2].set(2.0 * s_g)
    Pi = 2.0 * s_g + pol[0] + pol[2]  # F_2 + G_0 + G_2
    dd_g = -4.0 / 3.0 * t_g - 2.0 / 3.0 * h_p
    dt_g = k2 * (0.25 * d_g - s_g) + dk * (t_b - t_g)
    ds_g = 0.5 * (8.0 / 15.0 * t_g - 3.0 / 5.0 * k * F_g[3] + 8.0 / 15.0 * metric_shear
                  - 9.0 / 5.0 * dk * s_g + 0.1 * dk * (pol[0] + pol[2]))
    dF_g = _hierarchy_tail(F_g, k, tau, dk)
    # --- polarisation (MB95 eq. 63, G hierarchy)
    lp = pol.shape[0] - 1
    l = jnp.arange(1, lp)
    dG0 = -k * pol[1] + dk * (0.5 * Pi - pol[0])
    dGm = k / (2 * l + 1) * (l * pol[0:lp - 1] - (l + 1) * pol[2:lp + 1]) - dk * pol[1:lp]
    dGm = dGm.at[1].add(0.1 * dk * Pi)  # l = 2 source
    dGl = k * pol[lp - 1] - (lp + 1) / tau * pol[lp] - dk * pol[lp]
    # --- massless neutrinos (MB95 eq. 49)
    F_u = ur.at[2].set(2.0 * s_ur)
    dd_u = -4.0 / 3.0 * t_ur - 2.0 / 3.0 * h_p
    dt_u = k2 * (0.25 * d_ur - s_ur)
    if mode == 1:
        # ufa_CLASS: shear' = -3/tau shear + 2/3 (theta + h'/2)  (CLASS metric_ufa_class = h'/2)
        ds_u = -3.0 / tau * s_ur + 2.0 / 3.0 * (t_ur + 0.5 * h_p)
        dF_u = jnp.zeros(lay.l_max_ur - 2)
    else:
        ds_u = 0.5 * (8.0 / 15.0 * t_ur - 3.0 / 5.0 * k * F_u[3] + 8.0 / 15.0 * metric_shear)
        dF_u = _hierarchy_tail(F_u, k, tau, 0.0)

    return jnp.concatenate([
        jnp.stack([dy_c, dy_db, dy_tb, eta_p, dd_g, dt_g, ds_g]), dF_g,
        dG0[None], dGm, dGl[None],
        jnp.stack([dd_u, dt_u, ds_u]), dF_u,
    ])


def derivs_lna(lna, y, k, tab, lay: Layout, mode: int):
    """d y / d ln a = (d y / d tau) / (a'/a)."""
    bg = tab.at(lna)
    return derivs_tau(y, k, bg, lay, mode) / bg["aH"]


def matter_outputs(y, k, bg, lay: Layout):
    """delta_m and delta_cb in CLASS's convention (perturbations_einstein, has_matter_source_in_current_gauge
    false): delta + 3 (a'/a) theta / k^2 with theta the density-weighted matter velocity (theta_cdm = 0
    in synchronous gauge), i.e. the comoving-gauge density contrast."""
    a2r = bg["a2rho"]
    r_b, r_c = a2r[1], a2r[2]
    d_cb = (r_c * y[0] + r_b * y[1]) / (r_c + r_b)
    t_cb = r_b * y[2] / (r_c + r_b)
    d_cb = d_cb + 3.0 * bg["aH"] * t_cb / (k * k)
    return d_cb, d_cb
