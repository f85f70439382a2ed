"""Adiabatic initial conditions in synchronous gauge: the super-horizon series solution at leading order
in k tau and first order in om*tau (CLASS v3.4.1 source/perturbations.c
`perturbations_initial_conditions`, adiabatic branch, which follows Ma & Bertschinger 1995 eq. 96 and
Carlson, Rosen & Sonego; normalisation curvature_ini = 1, i.e. eta -> 1 as k tau -> 0; curvature enters
through s2sq = 1 - 3K/k^2 exactly where CLASS puts it).  The PPF dark-energy variable starts at
Gamma_fld = 0, as in CLASS.

om = a rho_m / sqrt(rho_r) [1/Mpc] (CLASS's 8piG/3 rho) is the matter-radiation parameter of
a(tau) = (om^2/4)... (radiation + matter Friedmann solution), fracnu = rho_nu / rho_r, fracb = rho_b / rho_m.
All relativistic relics (massless neutrinos and the still relativistic ncdm species) share the neutrino
initial conditions; the ncdm hierarchy starts from them as in CLASS: Psi_0 = -delta_ur/4 dlnf0/dlnq,
Psi_1 = -eps/(3 q k) theta_ur dlnf0/dlnq, Psi_2 = -shear_ur/2 dlnf0/dlnq, Psi_3 = -l3_ur/4 dlnf0/dlnq.
"""

from __future__ import annotations

import jax.numpy as jnp

from .equations import Layout, ncdm_background, ncdm_eps


def adiabatic_ic(k, tau, bg, lay: Layout):
    """State vector at conformal time tau [Mpc] for wavenumber k [1/Mpc]; bg from `PertTables.at`."""
    a2r = bg["a2rho"]
    r_g, r_b, r_c, r_ur = a2r[0], a2r[1], a2r[2], a2r[3]
    a2rho_nu = r_ur
    if lay.n_ncdm:
        a2rho_nu = a2rho_nu + jnp.sum(ncdm_background(bg)[0])
    a2rho_r = r_g + a2rho_nu
    a2rho_m = r_b + r_c
    # om = a rho_m / sqrt(rho_r) = a^2 rho_m / sqrt(a^2 rho_r)   [1/Mpc]
    om = a2rho_m / jnp.sqrt(a2rho_r)
    fnu = a2rho_nu / a2rho_r
    fb = r_b / a2rho_m
    kt2 = (k * tau) ** 2
    kt3 = kt2 * k * tau
    ot = om * tau
    s2sq = 1.0 - 3.0 * bg["K"] / (k * k)  # curvature (CLASS: factors s2_squared in the same places)

    d_g = -kt2 / 3.0 * (1.0 - ot / 5.0) * s2sq
    t_g = -k * kt3 / 36.0 * (1.0 - 3.0 * (1.0 + 5.0 * fb - fnu) / 20.0 / (1.0 - fnu) * ot) * s2sq
    d_b = 0.75 * d_g
    t_b = t_g
    d_c = 0.75 * d_g
    d_ur = d_g
    t_ur = -k * kt3 / 36.0 / (4.0 * fnu + 15.0) * (
        4.0 * fnu + 11.0 + 12.0 * s2sq
        - 3.0 * (8.0 * fnu**2 + 50.0 * fnu + 275.0) / 20.0 / (2.0 * fnu + 15.0) * ot) * s2sq
    s_ur = kt2 / (45.0 + 12.0 * fnu) * (3.0 * s2sq - 1.0) * (1.0 + (4.0 * fnu - 5.0) / 4.0 / (2.0 * fnu + 15.0) * ot)
    l3_ur = kt3 * 2.0 / 7.0 / (12.0 * fnu + 45.0)
    eta = 1.0 - kt2 / 12.0 / (15.0 + 4.0 * fnu) * (
        5.0 + 4.0 * s2sq * fnu - (16.0 * fnu**2 + 280.0 * fnu + 325.0) / 10.0 / (2.0 * fnu + 15.0) * ot)

    y = jnp.zeros(lay.size)
    y = y.at[0].set(d_c).at[1].set(d_b).at[2].set(t_b).at[3].set(eta)
    y = y.at[lay.i_g].set(d_g).at[lay.i_g + 1].set(t_g)
    y = y.at[lay.i_ur].set(d_ur).at[lay.i_ur + 1].set(t_ur).at[lay.i_ur + 2].set(s_ur)
    y = y.at[lay.i_ur + 3].set(l3_ur)
    if lay.n_ncdm:
        dl = bg["dlnf0_ncdm"]
        q = bg["q_ncdm"]
        eps = ncdm_eps(bg)
        psi = jnp.zeros(lay.ncdm_shape)
        psi = psi.at[..., 0].set(jnp.broadcast_to(-0.25 * d_ur * dl, eps.shape))
        psi = psi.at[..., 1].set(-eps / (3.0 * q * k) * t_ur * dl)
        psi = psi.at[..., 2].set(jnp.broadcast_to(-0.5 * s_ur * dl, eps.shape))
        psi = psi.at[..., 3].set(jnp.broadcast_to(-0.25 * l3_ur * dl, eps.shape))
        y = y.at[lay.n_core:].set(psi.reshape(-1))
    return y
