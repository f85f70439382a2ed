"""Transfer functions of one mode in CLASS's conventions (synchronous gauge, curvature_ini = 1).

`synchronous_transfers(y, k, bg, lay, mode)` returns the quantities of classy's ``get_transfer`` (CLASS
v3.4.1 perturbations.c, perturbations_sources with the default gauge: no N-body-gauge shift), from the state
y at one time:

  d_g, d_b, d_cdm, d_ur, d_ncdm[i], d_fld: density contrasts (synchronous gauge; in the radiation-streaming
      approximation d_g, d_ur are CLASS's RSA values, in the ncdm fluid approximation d_ncdm is the fluid's);
  d_m: CLASS's delta_m, the comoving-gauge (gauge-invariant) matter contrast delta + 3 aH theta_m / k^2, the
      one P(k) uses (`equations.matter_outputs`); d_cb likewise for CDM + baryons;
  d_tot: delta rho_tot / rho_tot with rho_tot excluding the cosmological constant (CLASS d_tot);
  t_g, t_b, t_ur, t_ncdm[i], t_fld: velocity divergences theta [1/Mpc] (t_cdm = 0 by the gauge choice);
  t_tot: sum (rho+p) theta / sum (rho+p);
  phi, psi: the Newtonian-gauge potentials built from the synchronous metric (Ma & Bertschinger 1995 eq. 18;
      CLASS perturbations_einstein / perturbations_sources):
        alpha = (h' + 6 eta') / (2 k^2),  alpha' = -2 aH alpha + eta - 9/2 a^2 (rho+p) sigma / k^2,
        phi = eta - aH alpha,  psi = aH alpha + alpha';
  h_prime, eta, eta_prime: the synchronous metric (CLASS h_prime, eta, eta_prime).
"""

from __future__ import annotations

import jax.numpy as jnp

from .equations import (Layout, _ncdm_sources, _ppf, _rsa_radiation, matter_outputs, metric, ncdm_background,
                        ncdm_eps)


def _ncdm_shear(yc, psi, bg, lay: Layout, mode: int):
    """a^2 (rho+p) sigma per ncdm species (CLASS perturbations_total_stress_energy: fluid (rho+p) shear, or
    2/3 factor sum w q^4/eps Psi_2)."""
    if mode >= 3:
        rn, pn = ncdm_background(bg)
        return (rn + pn) * yc[lay.i_fa:lay.i_fld].reshape(lay.n_ncdm, 3)[:, 2]
    q, w = bg["q_ncdm"], bg["w_ncdm"]
    f = bg["fac_ncdm"] / bg["a"] ** 2
    return 2.0 / 3.0 * f * jnp.sum(w * q**4 / ncdm_eps(bg) * psi[..., 2], -1)


def synchronous_transfers(y, k, bg, lay: Layout, mode: int) -> dict:
    """The transfer functions listed in the module docstring at one time (dict of scalars; d_ncdm and
    t_ncdm have shape (n_ncdm,))."""
    k2 = k * k
    aH = bg["aH"]
    a2r = bg["a2rho"]
    r_g, r_b, r_c, r_ur = a2r[0], a2r[1], a2r[2], a2r[3]
    yc, psi = lay.split(y)
    m = metric(yc, psi, k, bg, lay, mode)
    h_p, eta_p = m[0], m[1]
    eta = yc[3]
    out = dict(d_cdm=yc[0], d_b=yc[1], t_b=yc[2], eta=eta, h_prime=h_p, eta_prime=eta_p)
    if mode % 3 == 2:
        d_g, t_g, d_ur, t_ur = _rsa_radiation(yc, k, bg, h_p, lay)
        shear = jnp.zeros(())
    else:
        d_g, t_g, s_g = yc[lay.i_g], yc[lay.i_g + 1], yc[lay.i_g + 2]
        d_ur, t_ur, s_ur = yc[lay.i_ur], yc[lay.i_ur + 1], yc[lay.i_ur + 2]
        shear = 4.0 / 3.0 * (r_g * s_g + r_ur * s_ur)
    out.update(d_g=d_g, t_g=t_g, d_ur=d_ur, t_ur=t_ur)
    a2drho = r_c * yc[0] + r_b * yc[1] + r_g * d_g + r_ur * d_ur
    a2rpt = r_b * yc[2] + 4.0 / 3.0 * (r_g * t_g + r_ur * t_ur)
    a2rho_tot = r_c + r_b + r_g + r_ur
    a2rpp = r_c + r_b + 4.0 / 3.0 * (r_g + r_ur)
    if lay.n_ncdm:
        rn, pn = ncdm_background(bg)
        dn, tn = _ncdm_sources(yc, psi, k, bg, lay, mode)
        out.update(d_ncdm=dn / rn, t_ncdm=tn / (rn + pn))
        a2drho = a2drho + jnp.sum(dn)
        a2rpt = a2rpt + jnp.sum(tn)
        a2rho_tot = a2rho_tot + jnp.sum(rn)
        a2rpp = a2rpp + jnp.sum(rn + pn)
        shear = shear + jnp.sum(_ncdm_shear(yc, psi, bg, lay, mode))
    if lay.fld:
        # PPF sees the other species without the RSA radiation (as in `metric`)
        rsa = mode % 3 == 2
        D = a2drho - (r_g * d_g + r_ur * d_ur if rsa else 0.0)
        T = a2rpt - (4.0 / 3.0 * (r_g * t_g + r_ur * t_ur) if rsa else 0.0)
        a2drho_f, a2rpt_f, _ = _ppf(yc, D, T, a2rpp, k, bg, lay)
        a2rf = a2r[5]
        out.update(d_fld=a2drho_f / a2rf, t_fld=a2rpt_f / ((1.0 + bg["w_fld"]) * a2rf))
        a2drho = a2drho + a2drho_f
        a2rpt = a2rpt + a2rpt_f
        a2rho_tot = a2rho_tot + a2rf
        a2rpp = a2rpp + (1.0 + bg["w_fld"]) * a2rf
    d_m, d_cb = matter_outputs(y, k, bg, lay, mode)
    alpha = (h_p + 6.0 * eta_p) / (2.0 * k2)
    alpha_p = -2.0 * aH * alpha + eta - 4.5 * shear / k2
    out.update(d_m=d_m, d_cb=d_cb, d_tot=a2drho / a2rho_tot, t_tot=a2rpt / a2rpp,
               phi=eta - aH * alpha, psi=aH * alpha + alpha_p)
    return out
