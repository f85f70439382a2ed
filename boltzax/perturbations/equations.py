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

import jax
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
    fld: bool = False  # dark-energy fluid with PPF perturbations (one variable, Gamma_fld)

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
    def i_fld(self):
        """Index of the PPF variable Gamma_fld (present when ``fld``)."""
        return self.i_fa + 3 * self.n_ncdm

    @property
    def n_core(self):
        return self.i_fld + int(self.fld)

    @property
    def n_metric(self):
        """Number of linear functionals m of the state that couple the blocks: (h', eta') and, with
        the PPF fluid, the source term a'/a S/(1+X) of Gamma_fld' (see `metric`)."""
        return 3 if self.fld else 2

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


# ------------------------------------------------------------------------------------- curvature
def sqrt_clipped(x):
    """sqrt(max(x, 0)) whose derivative is 0, not inf x 0 = NaN, where x <= 0 (the double-where rule: in
    forward mode sqrt'(0) = inf times the clipped tangent 0 gave NaN gradients in closed universes, where
    1 - K (l^2 - 1)/k^2 < 0 for the high multipoles of the smallest k; robustness sweep, session 8)."""
    pos = x > 0.0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, x, 1.0)), 0.0)


def s_l(k, K, lmax):
    """CLASS's curvature factors s_l = sqrt(max(1 - K (l^2 - 1) / k^2, 0)), l = 0..lmax (perturbations.c,
    perturbations_workspace_init; Lesgourgues & Tram 2013, arXiv:1305.3261 eq. 2.12); all 1 when K = 0."""
    l = jnp.arange(lmax + 1)
    return sqrt_clipped(1.0 - K * (l * l - 1.0) / (k * k))


def k_cotK(K, tau):
    """k cotK_gen [1/Mpc] of the hierarchy truncation (CLASS perturbations_derivs, arXiv:1305.3261
    eq. 2.34): sqrt|K| coth(sqrt|K| tau) for K < 0, sqrt|K| cot(sqrt|K| tau) for K > 0, 1/tau flat.
    Written as g(u)/tau with u = K tau^2 and g(u) = sqrt(u) cot(sqrt(u)) (analytic in u; a series
    near u = 0 keeps it and its derivatives finite for K = 0)."""
    u = K * tau * tau
    small = jnp.abs(u) < 1e-4
    us = jnp.where(small, 1.0, u)  # safe argument off the series branch (no NaN in gradients)
    x = jnp.sqrt(jnp.abs(us))
    g = jnp.where(us > 0, x / jnp.tan(x), x / jnp.tanh(x))
    series = 1.0 - u / 3.0 - u * u / 45.0
    return jnp.where(small, series, g) / tau


def _hierarchy_tail(F, k, kcot, kappa, sl):
    """d F_l / d tau for l = 3..lmax of a free-streaming hierarchy F (full array F_0..F_lmax, with
    F[2] already the true F_2 = 2 s_2 shear), damped at rate kappa (MB95 eq. 64/60 with CLASS's
    curvature factors sl, arXiv:1305.3261 eq. 2.35):
      F_l' = k/(2l+1) (l s_l F_{l-1} - (l+1) s_{l+1} F_{l+1}) - kappa F_l,
    truncated at lmax with F_lmax' = k s_lmax F_{lmax-1} - (lmax+1) k cotK F_lmax (MB95 eq. 65; kcot =
    k cotK_gen, 1/tau in flat space)."""
    lmax = F.shape[0] - 1
    l = jnp.arange(3, lmax)
    mid = (k / (2 * l + 1) * (l * sl[3:lmax] * F[2:lmax - 1] - (l + 1) * sl[4:lmax + 1] * F[4:lmax + 1])
           - kappa * F[3:lmax])
    last = k * sl[lmax] * F[lmax - 1] - (lmax + 1) * kcot * F[lmax] - kappa * F[lmax]
    return jnp.concatenate([mid, last[None]])


# ------------------------------------------------------------------------------------ ncdm moments
def ncdm_eps(bg):
    """epsilon(q) = sqrt(q^2 + a^2 M^2) per species and momentum node, (n_ncdm, n_q)."""
    q = bg["q_ncdm"]
    Ma = bg["M_ncdm"][:, None] * bg["a"]
    return jnp.sqrt(q * q + Ma * Ma)


def ncdm_background(bg, pseudo=False):
    """a^2 rho_ncdm and a^2 p_ncdm (and a^2 pseudo_p if ``pseudo``) per species (n_ncdm,) [1/Mpc^2] from the
    background (its own converged momentum quadrature, `PertTables.ln_a2ncdm_bg`), as CLASS reads them
    from pvecback wherever the perturbation equations need the background ncdm (fluid approximation,
    fluid-switch normalisation, rho_m, (rho+p)_tot, initial conditions)."""
    r = bg["ncdm_bg"]
    return (r[0], r[1], r[2]) if pseudo else (r[0], r[1])


def ncdm_fluid_from_hierarchy(psi, k, bg):
    """(delta, theta, shear) per species, (n_ncdm, 3), from the momentum hierarchy (CLASS
    perturbations_vector_init at the ncdmfa switch: the hierarchy's momentum sums divided by the
    background rho and rho + p: delta = factor a^-4 sum w q^2 eps Psi_0 / rho,
    theta = k factor a^-4 sum w q^3 Psi_1 / (rho+p), shear = 2/3 factor a^-4 sum w q^4/eps Psi_2 / (rho+p))."""
    q, w = bg["q_ncdm"], bg["w_ncdm"]
    eps = ncdm_eps(bg)
    f = (bg["fac_ncdm"] / bg["a"] ** 2)[:, None]
    rho, p = ncdm_background(bg)
    rpp = rho + p
    d = jnp.sum(f * w * q**2 * eps * psi[..., 0], -1) / rho
    t = k * jnp.sum(f * w * q**3 * psi[..., 1], -1) / rpp
    sh = 2.0 / 3.0 * jnp.sum(f * w * q**4 / eps * psi[..., 2], -1) / rpp
    return jnp.stack([d, t, sh], axis=-1)


def _ncdm_sources(yc, psi, k, bg, lay: Layout, mode: int):
    """a^2 delta rho and a^2 (rho+p) theta per species, from the fluid variables (mode >= 3) or the
    hierarchy."""
    if mode >= 3:
        rn, pn = ncdm_background(bg)
        fl = yc[lay.i_fa:lay.i_fld].reshape(lay.n_ncdm, 3)
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


# PPF parameter c_Gamma / c_fld (CLASS input.c default c_gamma_over_c_fld = 0.4: Hu & Sawicki 2007,
# arXiv:0708.1190, and Fang, Hu & Lewis 2008, arXiv:0808.3125, who calibrate the transition scale of the
# PPF Gamma equation on the smooth-fluid limit with this value)
C_GAMMA_OVER_C_FLD = 0.4


def _ppf(yc, a2D, a2T, a2rpp, k, bg, lay: Layout):
    """Dark-energy fluid in the parametrised post-Friedmann scheme (Hu 2008, arXiv:0802.2088; Fang, Hu &
    Lewis 2008, arXiv:0808.3125), synchronous gauge, exactly as CLASS v3.4.1 perturbations.c
    (perturbations_total_stress_energy, use_ppf = yes).  Inputs are the totals of all OTHER species (the
    whole point of PPF): a2D = a^2 delta rho, a2T = a^2 (rho+p) theta, a2rpp = a^2 (rho+p).  With
    s2sq = 1 - 3K/k^2 and X = (c_Gamma k / aH)^2 cs2_fld:
      alpha = (eta + 3/2 a^2/(k^2 s2sq) (D + 3 aH/k^2 T) - Gamma) / aH
      S = a^2 rho_fld (1+w) 3/2 /(k^2 aH) (T/(rho+p) + k^2 alpha)
      Gamma' = aH (S/(1+X) - (1+X) Gamma)
      a^2 (rho+p) theta_fld = a^2 rho_fld (1+w) T/(rho+p) - 2/3 k^2 aH/(1 + 9/2 a^2 (rho+p)/(k^2 s2sq))
                              (S - (Gamma' + aH Gamma)/aH)
      a^2 delta rho_fld = -2/3 k^2 s2sq Gamma - 3 aH/k^2 a^2 (rho+p) theta_fld.
    Returns (a^2 delta rho_fld, a^2 (rho+p) theta_fld, aH S/(1+X)); Gamma' = the last minus
    aH (1+X) Gamma, whose stiff (X >> 1 inside the sound horizon) part is local to Gamma and stays in
    derivs_core.  CLASS sets Gamma = Gamma' = 0 where X > 1e3 (c_gamma_k_H_square_max); integrating
    the equation instead differs by O(S/X^2) < 1e-6 S there and is smooth in k and time."""
    k2 = k * k
    aH = bg["aH"]
    s2sq = 1.0 - 3.0 * bg["K"] / k2
    w = bg["w_fld"]
    a2rf = bg["a2rho"][5] * (1.0 + w)  # a^2 (rho + p)_fld
    gam, eta = yc[lay.i_fld], yc[3]
    X = (C_GAMMA_OVER_C_FLD * k / aH) ** 2 * bg["cs2_fld"]
    alpha = (eta + 1.5 / (k2 * s2sq) * (a2D + 3.0 * aH / k2 * a2T) - gam) / aH
    S = a2rf * 1.5 / (k2 * aH) * (a2T / a2rpp + k2 * alpha)
    # S - (Gamma' + aH Gamma)/aH = S X/(1+X) + X Gamma
    a2rpt_f = a2rf * a2T / a2rpp - 2.0 / 3.0 * k2 * aH / (1.0 + 4.5 * a2rpp / (k2 * s2sq)) * X * (
        S / (1.0 + X) + gam)
    a2drho_f = -2.0 / 3.0 * k2 * s2sq * gam - 3.0 * aH / k2 * a2rpt_f
    return a2drho_f, a2rpt_f, aH * S / (1.0 + X)


def ppf_stiffness(k, bg):
    """1 + X of the PPF Gamma equation (its relaxation rate in units of aH)."""
    return 1.0 + (C_GAMMA_OVER_C_FLD * k / bg["aH"]) ** 2 * bg["cs2_fld"]


def metric(yc, psi, k, bg, lay: Layout, mode: int):
    """m = (h', eta') [1/Mpc] (and, with the PPF fluid, its Gamma source aH S/(1+X)): 00 and 0i Einstein
    equations (MB95 eqs. 21a, 21b with CLASS's curvature terms, perturbations_einstein):
      h' = (k^2 s2sq eta + 3/2 a^2 delta rho) / (aH/2),
      eta' = (3/2 a^2 (rho+p) theta + K h'/2) / (k^2 s2sq),   s2sq = 1 - 3K/k^2.
    In the RSA (mode 2) h' is computed before the radiation RSA values, which themselves depend on h'
    (as CLASS); the PPF fluid sees the other species' totals without the RSA radiation, as in CLASS."""
    k2 = k * k
    K = bg["K"]
    s2sq = 1.0 - 3.0 * K / k2
    a2r = bg["a2rho"]
    r_g, r_b, r_c, r_ur = a2r[0], a2r[1], a2r[2], a2r[3]
    d_c, d_b, t_b, eta = yc[0], yc[1], yc[2], yc[3]
    a2drho = r_c * d_c + r_b * d_b
    a2rpt = r_b * t_b
    a2rpp = r_b + r_c + 4.0 / 3.0 * (r_g + r_ur)
    if lay.n_ncdm:
        dn, tn = _ncdm_sources(yc, psi, k, bg, lay, mode)
        rn, pn = ncdm_background(bg)
        a2drho = a2drho + jnp.sum(dn)
        a2rpt = a2rpt + jnp.sum(tn)
        a2rpp = a2rpp + jnp.sum(rn + pn)
    rsa = mode % 3 == 2
    if not rsa:
        g0, g1 = yc[lay.i_g], yc[lay.i_g + 1]
        u0, u1 = yc[lay.i_ur], yc[lay.i_ur + 1]
        a2drho = a2drho + r_g * g0 + r_ur * u0
        a2rpt = a2rpt + 4.0 / 3.0 * (r_g * g1 + r_ur * u1)
    extra = []
    if lay.fld:
        a2drho_f, a2rpt_f, src = _ppf(yc, a2drho, a2rpt, a2rpp, k, bg, lay)
        a2drho, a2rpt = a2drho + a2drho_f, a2rpt + a2rpt_f
        extra = [src]
    h_p = (k2 * s2sq * eta + 1.5 * a2drho) / (0.5 * bg["aH"])
    if rsa:
        _, t_g, _, t_ur = _rsa_radiation(yc, k, bg, h_p, lay)
        a2rpt = a2rpt + 4.0 / 3.0 * (r_g * t_g + r_ur * t_ur)
    eta_p = (1.5 * a2rpt + 0.5 * K * h_p) / (k2 * s2sq)
    return jnp.stack([h_p, eta_p] + extra)


# --------------------------------------------------------------------------------- the equations
def derivs_core(yc, m, k, bg, lay: Layout, mode: int):
    """d y_core / d tau given the metric m = (h', eta'[, PPF source]).

    mode (static): 0 full hierarchies; 1 massless neutrinos in CLASS's ultra-relativistic fluid
    approximation (ufa_CLASS: delta, theta, shear only; Blas, Lesgourgues & Tram 2011 sec. 3.3, CLASS
    perturbations_derivs), higher ur multipoles frozen; 2 radiation-streaming approximation (photons and
    ur algebraic, see module docstring); +3: ncdm fluid approximation.  Spatial curvature enters through
    CLASS's s_l factors and k cotK_gen (`s_l`, `k_cotK`; CLASS perturbations_derivs)."""
    rsa = mode % 3 == 2
    k2 = k * k
    tau = bg["tau"]
    aH = bg["aH"]
    a2r = bg["a2rho"]
    r_g, r_b = a2r[0], a2r[1]
    dk = bg["dkappa"]
    cb2 = bg["cb2"]
    K = bg["K"]
    h_p, eta_p = m[0], m[1]
    lmax = max(lay.l_max_g, lay.l_max_pol, lay.l_max_ur)
    sl = s_l(k, K, lmax + 1)
    s2, s3 = sl[2], sl[3]
    s2sq = 1.0 - 3.0 * K / k2
    kcot = k_cotK(K, tau)

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
    # PPF: Gamma' = aH S/(1+X) - aH (1+X) Gamma (the source is m[2], see metric / _ppf)
    d_fld = (m[2] - aH * ppf_stiffness(k, bg) * yc[lay.i_fld])[None] if lay.fld else jnp.zeros(0)
    if rsa:
        zeros = jnp.zeros(lay.i_fa - 4)
        return jnp.concatenate([jnp.stack([dy_c, dy_db, dy_tb, eta_p]), zeros, d_fa, d_fld])

    # --- photons temperature (MB95 eq. 63; CLASS conventions, F_2 = 2 s_2 shear)
    F_g = g.at[2].set(2.0 * s2 * s_g)
    Pi = 2.0 * s2 * s_g + pol[0] + pol[2]  # F_2 + G_0 + G_2 (CLASS P0 = Pi / 8)
    dd_g = -4.0 / 3.0 * t_g - 2.0 / 3.0 * h_p
    dt_g = k2 * (0.25 * d_g - s2sq * s_g) + dk * (t_b - t_g)
    ds_g = (4.0 / 15.0 * (t_g + metric_shear) - 0.3 * k * s3 / s2 * F_g[3]
            - dk * (s_g - Pi / (20.0 * s2)))
    dF_g = _hierarchy_tail(F_g, k, kcot, dk, sl)
    # --- polarisation (MB95 eq. 63, G hierarchy; CLASS perturbations_derivs, 'optimal' hierarchy)
    lp = pol.shape[0] - 1
    l = jnp.arange(1, lp)
    dG0 = -k * pol[1] + dk * (0.5 * Pi - pol[0])
    dGm = (k / (2 * l + 1) * (l * sl[1:lp] * pol[0:lp - 1] - (l + 1) * sl[2:lp + 1] * pol[2:lp + 1])
           - dk * pol[1:lp])
    dGm = dGm.at[1].add(0.1 * dk * Pi)  # l = 2 source
    dGl = k * sl[lp] * pol[lp - 1] - (lp + 1) * kcot * pol[lp] - dk * pol[lp]
    # --- massless neutrinos (MB95 eq. 49)
    F_u = ur.at[2].set(2.0 * s2 * s_ur)
    dd_u = -4.0 / 3.0 * t_ur - 2.0 / 3.0 * h_p
    dt_u = k2 * (0.25 * d_ur - s2sq * s_ur)
    if mode % 3 == 1:
        # ufa_CLASS: shear' = -3/tau shear + 2/3 (theta + h'/2)  (CLASS metric_ufa_class = h'/2; CLASS
        # applies no curvature factor here)
        ds_u = -3.0 / tau * s_ur + 2.0 / 3.0 * (t_ur + 0.5 * h_p)
        dF_u = jnp.zeros(lay.l_max_ur - 2)
    else:
        ds_u = 4.0 / 15.0 * (t_ur + metric_shear) - 0.3 * k * s3 / s2 * F_u[3]
        dF_u = _hierarchy_tail(F_u, k, kcot, 0.0, sl)

    return jnp.concatenate([
        jnp.stack([dy_c, dy_db, dy_tb, eta_p, dd_g, dt_g, ds_g]), dF_g,
        dG0[None], dGm, dGl[None],
        jnp.stack([dd_u, dt_u, ds_u]), dF_u, d_fa, d_fld,
    ])


def _ncdm_fluid_derivs(yc, m, k, bg, lay: Layout, mode: int):
    """d (delta, theta, shear) / d tau of each ncdm species in CLASS's fluid approximation (ncdmfa_CLASS,
    perturbations_derivs, synchronous gauge: metric_continuity = metric_ufa_class = h'/2, metric_euler = 0):
      delta' = -(1+w)(theta + h'/2) - 3 a'/a (c_eff^2 - w) delta
      theta' = -a'/a (1 - 3 c_a^2) theta + c_eff^2/(1+w) k^2 delta - k^2 shear
      shear' = -3 (a'/a (2/3 - c_a^2 - pseudo_p/(3p)) + 1/tau) shear + 8/3 c_vis^2/(1+w) s_2 (theta + h'/2)
    with c_a^2 = w/(3(1+w)) (5 - pseudo_p/p), c_eff^2 = c_a^2, c_vis^2 = 3 w c_a^2.  Zero before the switch."""
    if not lay.n_ncdm or mode < 3:
        return jnp.zeros(3 * lay.n_ncdm)
    rn, pn, ppn = ncdm_background(bg, pseudo=True)
    w = pn / rn
    ca2 = w / 3.0 / (1.0 + w) * (5.0 - ppn / pn)
    cvis2 = 3.0 * w * ca2
    aH, tau, k2 = bg["aH"], bg["tau"], k * k
    fl = yc[lay.i_fa:lay.i_fld].reshape(lay.n_ncdm, 3)
    d, t, sh = fl[:, 0], fl[:, 1], fl[:, 2]
    hh = 0.5 * m[0]
    dd = -(1.0 + w) * (t + hh) - 3.0 * aH * (ca2 - w) * d
    dt = -aH * (1.0 - 3.0 * ca2) * t + ca2 / (1.0 + w) * k2 * d - k2 * sh
    s2 = sqrt_clipped(1.0 - 3.0 * bg["K"] / k2)
    ds = (-3.0 * (aH * (2.0 / 3.0 - ca2 - ppn / pn / 3.0) + 1.0 / tau) * sh
          + 8.0 / 3.0 * cvis2 / (1.0 + w) * s2 * (t + hh))
    return jnp.stack([dd, dt, ds], axis=-1).reshape(-1)


def ncdm_block(psi, m, qk_eps, dlnf0, tau, k=1.0, K=0.0):
    """d Psi_l / d tau for one momentum node (CLASS perturbations_derivs, ncdm, exact hierarchy,
    synchronous gauge: metric_continuity = h'/2, metric_euler = 0, metric_shear = h'/2 + 3 eta'; curvature
    factors s_l and k cotK_gen as CLASS, `s_l`, `k_cotK`):
      Psi_0' = -(qk/eps) Psi_1 + h'/6 dlnf0/dlnq
      Psi_1' = (qk/3eps) (Psi_0 - 2 s_2 Psi_2)
      Psi_2' = (qk/5eps) (2 s_2 Psi_1 - 3 s_3 Psi_3) - (2/15) s_2 metric_shear dlnf0/dlnq
      Psi_l' = (qk/((2l+1) eps)) (l s_l Psi_{l-1} - (l+1) s_{l+1} Psi_{l+1}),
      Psi_lmax' = (qk/eps) Psi_{lmax-1} - (lmax+1) k cotK Psi_lmax   (MB95 eq. 58 truncation; CLASS
    omits s_lmax in this last line, and so do we).  k [1/Mpc] and K [1/Mpc^2] only enter via curvature."""
    L = psi.shape[0] - 1
    h_p, eta_p = m[0], m[1]
    sl = s_l(k, K, L)
    kcot = k_cotK(K, tau)
    d0 = -qk_eps * psi[1] + h_p / 6.0 * dlnf0
    d1 = qk_eps / 3.0 * (psi[0] - 2.0 * sl[2] * psi[2])
    d2 = (qk_eps / 5.0 * (2.0 * sl[2] * psi[1] - 3.0 * sl[3] * psi[3])
          - sl[2] * (0.5 * h_p + 3.0 * eta_p) * 2.0 / 15.0 * dlnf0)
    l = jnp.arange(3, L)
    dm = qk_eps / (2 * l + 1) * (l * sl[3:L] * psi[2:L - 1] - (l + 1) * sl[4:L + 1] * psi[4:L + 1])
    dl = qk_eps * psi[L - 1] - (L + 1) * kcot * psi[L]
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
    blk = lambda p, qk, dl: ncdm_block(p, m, qk, dl, bg["tau"], k, bg["K"])  # noqa: E731
    dl = jnp.broadcast_to(bg["dlnf0_ncdm"], qke.shape)
    dpsi = jax.vmap(jax.vmap(blk))(psi, qke, dl)
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
