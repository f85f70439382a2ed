"""Scalar perturbation equations in synchronous gauge (Ma & Bertschinger 1995, astro-ph/9506072,
sections 4-5, with CLASS v3.4.1's variables and conventions, source/perturbations.c
`perturbations_derivs` / `perturbations_einstein`).

State vector y = (core, ncdm), static sizes from `Layout`:
  core: delta_cdm, delta_b, theta_b, eta,
        photons F_0..F_lmax_g stored as (delta_g, theta_g, shear_g, F_3, ..., F_lmax_g),
        polarisation G_0..G_lmax_pol,
        massless neutrinos (delta_ur, theta_ur, shear_ur, F_3, ..., F_lmax_ur),
        ncdm fluid variables (delta, theta, shear) per species, used after CLASS's ncdm fluid switch;
  ncdm: Psi_l(q) for each species, momentum node and l = 0..l_max_ncdm (array (n_ncdm, n_q, l_max_ncdm+1),
        flattened), CLASS's momentum-resolved hierarchy (MB95 eq. 57).
theta = (3/4) k F_1 and shear sigma = F_2 / 2 (MB95 eq. 49); CDM velocity is zero by the gauge choice.

Structure used by the solver.  The two metric derivatives m = (h', eta') are linear functionals of the
state: h' from the 00 Einstein equation (MB95 eq. 21a), eta' from the 0i equation (21b) (`metric`).
Given m, the core equations involve only the core state and each ncdm momentum bin only its own
multipoles (a tridiagonal free-streaming block): `derivs_core(y_core, m)` and `ncdm_block(psi, m)`.
The Jacobian is therefore block-diagonal plus a rank-2 coupling through m, which the implicit solver
exploits (linear_esdirk.py).

The right-hand side is written as d y / d tau; the solver divides by a'/a for d / d ln a.  Tight
coupling is NOT approximated: the Thomson terms are kept exactly and an L-stable implicit integrator
resolves them.  After photon decoupling and inside the horizon, photons and massless neutrinos follow
CLASS's radiation-streaming approximation (mode 2, CLASS `perturbations_rsa_delta_and_theta`,
rsa_MD_with_reio; Doran 2005, astro-ph/0503277; Blas, Lesgourgues, Tram 2011, arXiv:1104.2933 sec. 4):
the radiation multipoles are then frozen in the state vector (same shape) and replaced by their
algebraic RSA values.

Modes (static int): rad = mode % 3 selects the radiation treatment (0 full hierarchies, 1 massless
neutrinos in CLASS's ur fluid approximation, 2 RSA); mode >= 3 adds CLASS's ncdm fluid approximation
(ncdmfa_CLASS, Lesgourgues & Tram 2011, arXiv:1104.2935 sec. 3; CLASS switches at k tau = 31,
ncdm_fluid_trigger_tau_over_tau_k): each species is then described by (delta, theta, shear) with
c_eff^2 = c_a^2 and c_vis^2 = 3 w c_a^2, its momentum hierarchy frozen.
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
    n_ncdm: int = 0
    n_q: int = 0
    l_max_ncdm: int = 0

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
    def i_fa(self):
        """First of the 3 n_ncdm ncdm fluid variables (delta, theta, shear per species)."""
        return self.i_ur + self.l_max_ur + 1

    @property
    def n_core(self):
        return self.i_fa + 3 * self.n_ncdm

    @property
    def ncdm_shape(self):
        return (self.n_ncdm, self.n_q, self.l_max_ncdm + 1)

    @property
    def size(self):
        return self.n_core + self.n_ncdm * self.n_q * (self.l_max_ncdm + 1)

    def split(self, y):
        return y[: self.n_core], y[self.n_core:].reshape(self.ncdm_shape)

    def join(self, yc, psi):
        return jnp.concatenate([yc, psi.reshape(-1)])


def _hierarchy_tail(F, k, tau, kappa):
    """d F_l / d tau for l = 3..lmax of a free-streaming hierarchy F (full array F_0..F_lmax, with
    F[2] already the true F_2 = 2 shear), damped at rate kappa (MB95 eq. 64/60), truncated at lmax with
    MB95 eq. 65: F_lmax' = k F_{lmax-1} - (lmax+1)/tau F_lmax (flat space, CLASS cotKgen = 1/tau)."""
    lmax = F.shape[0] - 1
    l = jnp.arange(3, lmax)
    mid = k / (2 * l + 1) * (l * F[2:lmax - 1] - (l + 1) * F[4:lmax + 1]) - kappa * F[3:lmax]
    last = k * F[lmax - 1] - (lmax + 1) / tau * F[lmax] - kappa * F[lmax]
    return jnp.concatenate([mid, last[None]])


# ------------------------------------------------------------------------------------ ncdm moments
def ncdm_eps(bg):
    """epsilon(q) = sqrt(q^2 + a^2 M^2) per species and momentum node, (n_ncdm, n_q)."""
    q = bg["q_ncdm"]
    Ma = bg["M_ncdm"][:, None] * bg["a"]
    return jnp.sqrt(q * q + Ma * Ma)


def ncdm_background(bg, pseudo=False):
    """a^2 rho_ncdm and a^2 p_ncdm (and a^2 pseudo_p if ``pseudo``) per species (n_ncdm,) [1/Mpc^2] with the
    perturbation quadrature (CLASS background_ncdm_momenta: rho = factor a^-4 sum w q^2 eps,
    p = factor a^-4 sum w q^4/(3 eps), pseudo_p = factor a^-4 sum w q^6/(3 eps^3))."""
    q, w = bg["q_ncdm"], bg["w_ncdm"]
    eps = ncdm_eps(bg)
    f = bg["fac_ncdm"] / bg["a"] ** 2
    out = (f * jnp.sum(w * q**2 * eps, -1), f * jnp.sum(w * q**4 / eps, -1) / 3.0)
    if pseudo:
        out = out + (f * jnp.sum(w * (q**2 / eps) ** 3, -1) / 3.0,)
    return out


def ncdm_fluid_from_hierarchy(psi, k, bg):
    """(delta, theta, shear) per species, (n_ncdm, 3), from the momentum hierarchy (CLASS
    perturbations_vector_init at the ncdmfa switch: rho delta = factor sum w q^2 eps Psi_0,
    (rho+p) theta = k factor sum w q^3 Psi_1, (rho+p) shear = 2/3 factor sum w q^4/eps Psi_2)."""
    q, w = bg["q_ncdm"], bg["w_ncdm"]
    eps = ncdm_eps(bg)
    rho = jnp.sum(w * q**2 * eps, -1)
    rpp = rho + jnp.sum(w * q**4 / eps, -1) / 3.0
    d = jnp.sum(w * q**2 * eps * psi[..., 0], -1) / rho
    t = k * jnp.sum(w * q**3 * psi[..., 1], -1) / rpp
    sh = 2.0 / 3.0 * jnp.sum(w * q**4 / eps * psi[..., 2], -1) / rpp
    return jnp.stack([d, t, sh], axis=-1)


def _ncdm_sources(yc, psi, k, bg, lay: Layout, mode: int):
    """a^2 delta rho and a^2 (rho+p) theta per species, from the fluid variables (mode >= 3) or the
    hierarchy."""
    if mode >= 3:
        rn, pn = ncdm_background(bg)
        fl = yc[lay.i_fa:].reshape(lay.n_ncdm, 3)
        return rn * fl[:, 0], (rn + pn) * fl[:, 1]
    return ncdm_moments(psi, k, bg)


def ncdm_moments(psi, k, bg):
    """a^2 delta rho, a^2 (rho+p) theta of each ncdm species from the hierarchy psi (n_ncdm, n_q, L)
    (CLASS perturbations_total_stress_energy: rho_delta = factor sum q^2 eps w Psi_0,
    rho_plus_p_theta = k factor sum q^3 w Psi_1)."""
    q, w = bg["q_ncdm"], bg["w_ncdm"]
    eps = ncdm_eps(bg)
    f = bg["fac_ncdm"] / bg["a"] ** 2
    a2drho = f * jnp.sum(w * q**2 * eps * psi[..., 0], -1)
    a2rpt = k * f * jnp.sum(w * q**3 * psi[..., 1], -1)
    return a2drho, a2rpt


# ------------------------------------------------------------------------------------- the metric
def _rsa_radiation(yc, k, bg, h_p, lay: Layout):
    """CLASS perturbations_rsa_delta_and_theta, synchronous gauge, rsa_MD_with_reio:
    (delta_g, theta_g, delta_ur, theta_ur) algebraic in terms of h' and the matter state."""
    k2 = k * k
    aH, dk, cb2 = bg["aH"], bg["dkappa"], bg["cb2"]
    d_b, t_b, eta = yc[1], yc[2], yc[3]
    d_g = 4.0 / k2 * (aH * h_p - k2 * eta) - 4.0 / k2 * dk * (t_b + 0.5 * h_p)
    t_g = -0.5 * h_p + 3.0 / k2 * (
        bg["ddkappa"] * (t_b + 0.5 * h_p) + dk * (-aH * t_b + cb2 * k2 * d_b - aH * h_p + k2 * eta))
    d_ur = 4.0 / k2 * (aH * h_p - k2 * eta)
    t_ur = -0.5 * h_p
    return d_g, t_g, d_ur, t_ur


def metric(yc, psi, k, bg, lay: Layout, mode: int):
    """m = (h', eta') [1/Mpc]: 00 and 0i Einstein equations (MB95 eqs. 21a, 21b; CLASS
    perturbations_einstein, flat space).  In the RSA (mode 2) h' is computed before the radiation
    RSA values, which themselves depend on h' (as CLASS)."""
    k2 = k * k
    a2r = bg["a2rho"]
    r_g, r_b, r_c, r_ur = a2r[0], a2r[1], a2r[2], a2r[3]
    d_c, d_b, t_b, eta = yc[0], yc[1], yc[2], yc[3]
    a2drho = r_c * d_c + r_b * d_b
    a2rpt = r_b * t_b
    if lay.n_ncdm:
        dn, tn = _ncdm_sources(yc, psi, k, bg, lay, mode)
        a2drho = a2drho + jnp.sum(dn)
        a2rpt = a2rpt + jnp.sum(tn)
    if mode % 3 == 2:
        h_p = (k2 * eta + 1.5 * a2drho) / (0.5 * bg["aH"])
        _, t_g, _, t_ur = _rsa_radiation(yc, k, bg, h_p, lay)
    else:
        g0, g1 = yc[lay.i_g], yc[lay.i_g + 1]
        u0, u1 = yc[lay.i_ur], yc[lay.i_ur + 1]
        h_p = (k2 * eta + 1.5 * (a2drho + r_g * g0 + r_ur * u0)) / (0.5 * bg["aH"])
        t_g, t_ur = g1, u1
    a2rpt = a2rpt + 4.0 / 3.0 * (r_g * t_g + r_ur * t_ur)
    eta_p = 1.5 * a2rpt / k2
    return jnp.stack([h_p, eta_p])


# --------------------------------------------------------------------------------- the equations
def derivs_core(yc, m, k, bg, lay: Layout, mode: int):
    """d y_core / d tau given the metric m = (h', eta').

    mode (static): 0 full hierarchies; 1 massless neutrinos in CLASS's ultra-relativistic fluid
    approximation (ufa_CLASS: delta, theta, shear only; Blas, Lesgourgues & Tram 2011 sec. 3.3, CLASS
    perturbations_derivs), higher ur multipoles frozen; 2 radiation-streaming approximation (photons and
    ur algebraic, see module docstring); +3: ncdm fluid approximation."""
    rsa = mode % 3 == 2
    k2 = k * k
    tau = bg["tau"]
    aH = bg["aH"]
    a2r = bg["a2rho"]
    r_g, r_b = a2r[0], a2r[1]
    dk = bg["dkappa"]
    cb2 = bg["cb2"]
    h_p, eta_p = m[0], m[1]

    d_b, t_b = yc[1], yc[2]
    g = yc[lay.i_g:lay.i_pol]
    pol = yc[lay.i_pol:lay.i_ur]
    ur = yc[lay.i_ur:lay.i_fa]

    if rsa:
        _, t_g, _, _ = _rsa_radiation(yc, k, bg, h_p, lay)
        s_g = 0.0
    else:
        d_g, t_g, s_g = g[0], g[1], g[2]
        d_ur, t_ur, s_ur = ur[0], ur[1], ur[2]

    metric_shear = 0.5 * h_p + 3.0 * eta_p  # = k^2 alpha (CLASS metric_shear in synchronous gauge)

    R = 4.0 / 3.0 * r_g / r_b  # photon-to-baryon momentum ratio 1/R_MB (CLASS: R = 4 rho_g / 3 rho_b)
    dy_c = -0.5 * h_p
    dy_db = -t_b - 0.5 * h_p
    dy_tb = -aH * t_b + cb2 * k2 * d_b + R * dk * (t_g - t_b)

    d_fa = _ncdm_fluid_derivs(yc, m, k, bg, lay, mode)
    if rsa:
        zeros = jnp.zeros(lay.i_fa - 4)
        return jnp.concatenate([jnp.stack([dy_c, dy_db, dy_tb, eta_p]), zeros, d_fa])

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
    if mode % 3 == 1:
        # ufa_CLASS: shear' = -3/tau shear + 2/3 (theta + h'/2)  (CLASS metric_ufa_class = h'/2)
        ds_u = -3.0 / tau * s_ur + 2.0 / 3.0 * (t_ur + 0.5 * h_p)
        dF_u = jnp.zeros(lay.l_max_ur - 2)
    else:
        ds_u = 0.5 * (8.0 / 15.0 * t_ur - 3.0 / 5.0 * k * F_u[3] + 8.0 / 15.0 * metric_shear)
        dF_u = _hierarchy_tail(F_u, k, tau, 0.0)

    return jnp.concatenate([
        jnp.stack([dy_c, dy_db, dy_tb, eta_p, dd_g, dt_g, ds_g]), dF_g,
        dG0[None], dGm, dGl[None],
        jnp.stack([dd_u, dt_u, ds_u]), dF_u, d_fa,
    ])


def _ncdm_fluid_derivs(yc, m, k, bg, lay: Layout, mode: int):
    """d (delta, theta, shear) / d tau of each ncdm species in CLASS's fluid approximation (ncdmfa_CLASS,
    perturbations_derivs, synchronous gauge: metric_continuity = metric_ufa_class = h'/2, metric_euler = 0):
      delta' = -(1+w)(theta + h'/2) - 3 a'/a (c_eff^2 - w) delta
      theta' = -a'/a (1 - 3 c_a^2) theta + c_eff^2/(1+w) k^2 delta - k^2 shear
      shear' = -3 (a'/a (2/3 - c_a^2 - pseudo_p/(3p)) + 1/tau) shear + 8/3 c_vis^2/(1+w) (theta + h'/2)
    with c_a^2 = w/(3(1+w)) (5 - pseudo_p/p), c_eff^2 = c_a^2, c_vis^2 = 3 w c_a^2.  Zero before the switch."""
    if not lay.n_ncdm or mode < 3:
        return jnp.zeros(3 * lay.n_ncdm)
    rn, pn, ppn = ncdm_background(bg, pseudo=True)
    w = pn / rn
    ca2 = w / 3.0 / (1.0 + w) * (5.0 - ppn / pn)
    cvis2 = 3.0 * w * ca2
    aH, tau, k2 = bg["aH"], bg["tau"], k * k
    fl = yc[lay.i_fa:].reshape(lay.n_ncdm, 3)
    d, t, sh = fl[:, 0], fl[:, 1], fl[:, 2]
    hh = 0.5 * m[0]
    dd = -(1.0 + w) * (t + hh) - 3.0 * aH * (ca2 - w) * d
    dt = -aH * (1.0 - 3.0 * ca2) * t + ca2 / (1.0 + w) * k2 * d - k2 * sh
    ds = (-3.0 * (aH * (2.0 / 3.0 - ca2 - ppn / pn / 3.0) + 1.0 / tau) * sh
          + 8.0 / 3.0 * cvis2 / (1.0 + w) * (t + hh))
    return jnp.stack([dd, dt, ds], axis=-1).reshape(-1)


def ncdm_block(psi, m, qk_eps, dlnf0, tau):
    """d Psi_l / d tau for one momentum node (CLASS perturbations_derivs, ncdm, exact hierarchy, flat,
    synchronous gauge: metric_continuity = h'/2, metric_euler = 0, metric_shear = h'/2 + 3 eta'):
      Psi_0' = -(qk/eps) Psi_1 + h'/6 dlnf0/dlnq
      Psi_1' = (qk/3eps) (Psi_0 - 2 Psi_2)
      Psi_2' = (qk/5eps) (2 Psi_1 - 3 Psi_3) - (2/15) metric_shear dlnf0/dlnq
      Psi_l' = (qk/((2l+1) eps)) (l Psi_{l-1} - (l+1) Psi_{l+1}),
      Psi_lmax' = (qk/eps) Psi_{lmax-1} - (lmax+1)/tau Psi_lmax   (MB95 eq. 58 truncation)."""
    L = psi.shape[0] - 1
    h_p, eta_p = m[0], m[1]
    d0 = -qk_eps * psi[1] + h_p / 6.0 * dlnf0
    d1 = qk_eps / 3.0 * (psi[0] - 2.0 * psi[2])
    d2 = qk_eps / 5.0 * (2.0 * psi[1] - 3.0 * psi[3]) - (0.5 * h_p + 3.0 * eta_p) * 2.0 / 15.0 * dlnf0
    l = jnp.arange(3, L)
    dm = qk_eps / (2 * l + 1) * (l * psi[2:L - 1] - (l + 1) * psi[4:L + 1])
    dl = qk_eps * psi[L - 1] - (L + 1) / tau * psi[L]
    return jnp.concatenate([jnp.stack([d0, d1, d2]), dm, dl[None]])


def ncdm_qk_eps(k, bg):
    """q k / epsilon per (species, node), (n_ncdm, n_q)."""
    return k * bg["q_ncdm"] / ncdm_eps(bg)


def derivs_tau(y, k, bg, lay: Layout, mode: int):
    """d y / d tau of the full state (metric computed from y)."""
    yc, psi = lay.split(y)
    m = metric(yc, psi, k, bg, lay, mode)
    dyc = derivs_core(yc, m, k, bg, lay, mode)
    if not lay.n_ncdm:
        return dyc
    if mode >= 3:  # hierarchy frozen in the fluid approximation
        return lay.join(dyc, jnp.zeros(lay.ncdm_shape))
    qke = ncdm_qk_eps(k, bg)
    dpsi = jnp.stack([jnp.stack([ncdm_block(psi[s, i], m, qke[s, i], bg["dlnf0_ncdm"][i], bg["tau"])
                                 for i in range(lay.n_q)]) for s in range(lay.n_ncdm)])
    return lay.join(dyc, dpsi)


def derivs_lna(lna, y, k, tab, lay: Layout, mode: int):
    """d y / d ln a = (d y / d tau) / (a'/a)."""
    bg = tab.at(lna)
    return derivs_tau(y, k, bg, lay, mode) / bg["aH"]


def matter_outputs(y, k, bg, lay: Layout, mode: int = 0):
    """delta_m and delta_cb in CLASS's convention (perturbations_einstein, has_matter_source_in_current_gauge
    false): delta + 3 (a'/a) theta / k^2 with theta the (rho+p)-weighted matter velocity (theta_cdm = 0
    in synchronous gauge), i.e. the comoving-gauge density contrast.  delta_m includes the ncdm species
    (rho-weighted delta, (rho+p)-weighted theta), delta_cb does not."""
    a2r = bg["a2rho"]
    r_b, r_c = a2r[1], a2r[2]
    yc, psi = lay.split(y)
    d_cb = (r_c * yc[0] + r_b * yc[1]) / (r_c + r_b)
    t_cb = r_b * yc[2] / (r_c + r_b)
    out_cb = d_cb + 3.0 * bg["aH"] * t_cb / (k * k)
    if not lay.n_ncdm:
        return out_cb, out_cb
    rn, pn = ncdm_background(bg)
    dn, tn = _ncdm_sources(yc, psi, k, bg, lay, mode)
    d_m = (r_c * yc[0] + r_b * yc[1] + jnp.sum(dn)) / (r_c + r_b + jnp.sum(rn))
    t_m = (r_b * yc[2] + jnp.sum(tn)) / (r_c + r_b + jnp.sum(rn + pn))
    return d_m + 3.0 * bg["aH"] * t_m / (k * k), out_cb
