"""Homogeneous background: Friedmann expansion, conformal/proper time, distances, sound horizon, growth.

Follows CLASS v3.4.1 ``source/background.c``. Units are CLASS's: densities are (8 pi G / 3) rho in
[1/Mpc^2] so that H^2 = sum_i rho_i - K / a^2 (``background_functions``), H and a'/a in [1/Mpc], times
and distances in [Mpc], a = 1 today.

Species (``background_functions``): photons rho_g = Omega0_g H0^2 a^-4; baryons and CDM ~ a^-3;
massless neutrinos Omega0_ur = N_ur 7/8 (4/11)^(4/3) Omega0_g (``input.c``); massive neutrinos
(`boltzax.ncdm`, Fermi-Dirac momentum quadrature); a cosmological constant; a dark-energy fluid with
w(a) = w0 + wa (1 - a) (Chevallier-Polarski-Linder; ``background_w_fld``), whose density is the analytic
solution rho_fld = Omega0_fld H0^2 a^(-3(1+w0+wa)) exp(3 wa (a - 1)) of d rho/d ln a = -3 (1+w) rho
(CLASS integrates that ODE from the same analytic initial value, ``background_initial_conditions``);
curvature K = -Omega_k H0^2. The closure species (Lambda or fld) gets 1 - Omega_k - sum(others)
(``input.c``, budget equation).

Integrated quantities, on a uniform grid in x = ln a from a_ini (CLASS ``a_ini_over_a_today_default``
= 1e-14) to a = 1 (``background_solve``, ``background_derivs``):

* conformal time tau = tau_ini + int dx / (a H), tau_ini = 1 / (a_ini H_ini) (radiation era);
* proper time t = t_ini + int dx / H, t_ini = 1 / (2 H_ini);
* sound horizon: CLASS integrates d r_s / dx = c_s / (a H) sqrt(1 - K r_s^2) with
  c_s = 1/sqrt(3 (1 + R)), R = 3 rho_b / (4 rho_g), r_s,ini = tau_ini / sqrt(3). Its exact solution is
  r_s = sinn_K(I), I = r_s,ini + int dx c_s / (a H) (sinn_K(I) = sin(sqrt(K) I)/sqrt(K), I, or sinh),
  which is what is tabulated (the arcsinn of r_s,ini differs from r_s,ini by K r_s,ini^3 / 6 ~ 1e-30 Mpc);
* growth: D'' = -a H D' + 3/2 a^2 (rho_b + rho_cdm) D (conformal derivatives; ncdm excluded, as in
  CLASS), initial D = 1, D' = 2 a H. Written for (D, u = dD/dx): dD/dx = u,
  du/dx = -(2 + H'/(a H^2)) u + 3/2 (rho_b + rho_cdm)/H^2 D with H' = -3/2 (rho + p) a + K/a
  (``background_functions``). D is normalised to 1 today, f = u / D.

The x-integrals use n_gl Gauss-Legendre nodes per table interval (cumulative sums; exact to rounding
for these smooth integrands), the growth ODE classical RK4 on the table grid. Values between nodes are
cubic Hermite interpolants that use the exact x-derivatives (1/(aH), ... known analytically), so the
interpolation error is O(dx^4 / 384) relative. H(z) and the densities are evaluated in closed form.
"""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from . import constants as C
from . import ncdm as N
from .params import CosmoParams
from .precision import BackgroundPrecision


# ----------------------------------------------------------------------------------------- helpers
def sinn(K, x):
    """CLASS's comoving radius from a conformal distance: sin(sqrt(K) x)/sqrt(K) (K > 0), x (K = 0),
    sinh(sqrt(-K) x)/sqrt(-K) (K < 0) (background.c, background_solve). Written x S(K x^2) with a
    series near K x^2 = 0 so that value and derivatives are smooth through K = 0."""
    y = K * x * x
    small = jnp.abs(y) < 1e-4
    ys = jnp.where(small, 1.0, y)
    sq = jnp.sqrt(jnp.abs(ys))
    s_big = jnp.where(ys > 0, jnp.sin(sq) / sq, jnp.sinh(sq) / sq)
    s_small = 1.0 - y / 6.0 + y * y / 120.0 - y**3 / 5040.0  # next term y^4/362880 < 3e-22
    return x * jnp.where(small, s_small, s_big)


def _hermite(x, x0, dx, y, dy):
    """Cubic Hermite interpolation on the uniform grid x_j = x0 + j dx, from values y and exact
    derivatives dy (first axis = grid). Clamped to the end intervals."""
    n = y.shape[0]
    s = (x - x0) / dx
    i = jnp.clip(jnp.floor(s).astype(jnp.int32), 0, n - 2)
    t = s - i
    omt = 1.0 - t
    h00 = (1.0 + 2.0 * t) * omt * omt
    h10 = t * omt * omt
    h01 = t * t * (3.0 - 2.0 * t)
    h11 = -t * t * omt
    return h00 * y[i] + h10 * dy[i] * dx + h01 * y[i + 1] + h11 * dy[i + 1] * dx


def _hermite_deriv(x, x0, dx, y, dy):
    """d/dx of `_hermite`."""
    n = y.shape[0]
    s = (x - x0) / dx
    i = jnp.clip(jnp.floor(s).astype(jnp.int32), 0, n - 2)
    t = s - i
    d00 = 6.0 * t * t - 6.0 * t
    d10 = 3.0 * t * t - 4.0 * t + 1.0
    d01 = -d00
    d11 = 3.0 * t * t - 2.0 * t
    return (d00 * y[i] + d01 * y[i + 1]) / dx + d10 * dy[i] + d11 * dy[i + 1]


# ----------------------------------------------------------------------------------------- model
class BackgroundModel(eqx.Module):
    """Closed-form densities of every species as a function of a (CLASS units, [1/Mpc^2])."""

    H0: Any  # [1/Mpc]
    K: Any  # curvature [1/Mpc^2]
    Omega0_g: Any
    Omega0_b: Any
    Omega0_cdm: Any
    Omega0_ur: Any
    Omega0_lambda: Any
    Omega0_fld: Any
    w0: Any
    wa: Any
    M_ncdm: Any  # (n_ncdm,) m / (k_B T_ncdm,0)
    factor_ncdm: Any  # (n_ncdm,) see ncdm.factor_ncdm
    q: Any  # (n_q,) momentum nodes
    wq: Any  # (n_q,) Fermi-Dirac weights
    Omega0_ncdm: Any  # (n_ncdm,)
    has_fld: bool = eqx.field(static=True, default=False)

    def densities(self, a) -> dict:
        """Dict of CLASS-unit densities and pressures at scale factor(s) ``a`` (any shape S):
        'g', 'b', 'cdm', 'ur', 'lambda', 'fld' (S); 'ncdm', 'p_ncdm', 'pseudo_p_ncdm' (S + (n_ncdm,));
        'w_fld', 'tot', 'p_tot', 'crit' (= H^2 = tot - K/a^2), 'H' [1/Mpc], 'H_prime' (dH/dtau,
        background_functions), 'dp_dloga' (sum of dp_i/dln a), 'r' and 'm' (CLASS rho_r, rho_m)."""
        a = jnp.asarray(a)
        H02 = self.H0 * self.H0
        lna = jnp.log(a)
        a3 = a * a * a
        a4 = a3 * a
        rho_g = self.Omega0_g * H02 / a4
        rho_ur = self.Omega0_ur * H02 / a4
        rho_b = self.Omega0_b * H02 / a3
        rho_cdm = self.Omega0_cdm * H02 / a3
        rho_l = self.Omega0_lambda * H02 * jnp.ones_like(a)
        rho_n, p_n, ps_n = N.ncdm_moments(a, self.M_ncdm, self.factor_ncdm, self.q, self.wq)
        w_fld = self.w0 + self.wa * (1.0 - a)
        if self.has_fld:
            # background_w_fld: integral_fld = 3 ((1+w0+wa) ln(1/a) + wa (a-1)); rho = rho0 exp(integral)
            rho_fld = self.Omega0_fld * H02 * jnp.exp(-3.0 * (1.0 + self.w0 + self.wa) * lna
                                                     + 3.0 * self.wa * (a - 1.0))
        else:
            rho_fld = jnp.zeros_like(a)
        sum_rn = jnp.sum(rho_n, axis=-1)
        sum_pn = jnp.sum(p_n, axis=-1)
        tot = rho_g + rho_ur + rho_b + rho_cdm + rho_l + rho_fld + sum_rn
        p_tot = (rho_g + rho_ur) / 3.0 + sum_pn - rho_l + w_fld * rho_fld
        crit = tot - self.K / (a * a)
        H = jnp.sqrt(crit)
        H_prime = -1.5 * (tot + p_tot) * a + self.K / a
        # dp/dln a (background_functions): radiation -4/3 rho, ncdm pseudo_p - 5 p, fld (a w' - 3(1+w)w) rho
        dp_dloga = (-(4.0 / 3.0) * (rho_g + rho_ur) + jnp.sum(ps_n - 5.0 * p_n, axis=-1)
                    + (-a * self.wa - 3.0 * (1.0 + w_fld) * w_fld) * rho_fld)
        return {
            "g": rho_g, "b": rho_b, "cdm": rho_cdm, "ur": rho_ur, "lambda": rho_l, "fld": rho_fld,
            "ncdm": rho_n, "p_ncdm": p_n, "pseudo_p_ncdm": ps_n, "w_fld": w_fld, "tot": tot,
            "p_tot": p_tot, "crit": crit, "H": H, "H_prime": H_prime, "dp_dloga": dp_dloga,
            "r": rho_g + rho_ur + 3.0 * sum_pn, "m": rho_b + rho_cdm + sum_rn - 3.0 * sum_pn,
        }


def background_model(params: CosmoParams, prec: BackgroundPrecision) -> BackgroundModel:
    """Omega0 of every species from ``params`` with CLASS's conventions and closure (input.c)."""
    f64 = lambda x: jnp.asarray(x, dtype=jnp.float64)  # noqa: E731
    h = f64(params.h)
    H0 = h * C.H0_100
    T_cmb = f64(params.T_cmb)
    Omega0_g = C.omega_gamma(T_cmb) / (h * h)
    Omega0_b = f64(params.omega_b) / (h * h)
    Omega0_cdm = f64(params.omega_cdm) / (h * h)
    Omega0_ur = f64(params.N_ur) * C.nu_over_gamma * Omega0_g
    q, wq = N.fd_quadrature(prec.n_q_bg)
    q, wq = jnp.asarray(q), jnp.asarray(wq)
    m = jnp.asarray(params.m_ncdm, dtype=jnp.float64).reshape(-1)
    Tn = jnp.asarray(params.T_ncdm, dtype=jnp.float64).reshape(-1)
    deg = jnp.asarray(params.deg_ncdm, dtype=jnp.float64).reshape(-1)
    M = N.mass_ratio(m, T_cmb, Tn)
    fac = N.factor_ncdm(T_cmb, Tn, deg)
    # input.c: Omega0_ncdm = rho_ncdm(z=0) / H0^2 for a given mass
    rho_n0 = N.ncdm_moments(jnp.ones(()), M, fac, q, wq)[0]
    Omega0_ncdm = rho_n0 / (H0 * H0)
    Omega_k = f64(params.Omega_k)
    others = Omega0_g + Omega0_b + Omega0_cdm + Omega0_ur + jnp.sum(Omega0_ncdm)
    if params.closure == "fld":
        Omega0_lambda = f64(params.Omega_Lambda)
        Omega0_fld = 1.0 - Omega_k - others - Omega0_lambda
    else:
        Omega0_fld = f64(params.Omega_fld) if params.has_fld else f64(0.0)
        Omega0_lambda = 1.0 - Omega_k - others - Omega0_fld
    return BackgroundModel(
        H0=H0, K=-Omega_k * H0 * H0, Omega0_g=Omega0_g, Omega0_b=Omega0_b, Omega0_cdm=Omega0_cdm,
        Omega0_ur=Omega0_ur, Omega0_lambda=Omega0_lambda, Omega0_fld=Omega0_fld,
        w0=f64(params.w0_fld), wa=f64(params.wa_fld), M_ncdm=M, factor_ncdm=fac, q=q, wq=wq,
        Omega0_ncdm=Omega0_ncdm, has_fld=bool(params.has_fld or params.closure == "fld"),
    )


# ----------------------------------------------------------------------------------------- tables
class Background(eqx.Module):
    """Background tables on the uniform grid x_j = lna0 + j dlna (j < n, last point a = 1) and the
    closed-form `BackgroundModel`. Methods accept z (or tau) as arrays; units [Mpc], [1/Mpc].

    Tables (n,): ``ln_tau`` (ln conformal time), ``ln_t`` (ln proper time), ``rs_I`` (flat sound-horizon
    integral; r_s = sinn_K(rs_I)), ``D`` (normalised growth factor), ``u`` = dD/dln a, each with its
    exact ln a derivative (``d_*``) for Hermite interpolation; ``H``, ``aH`` at the nodes.
    """

    model: BackgroundModel
    ln_tau: Any
    d_ln_tau: Any
    ln_t: Any
    d_ln_t: Any
    rs_I: Any
    d_rs_I: Any
    D: Any
    u: Any
    d_u: Any
    H_table: Any
    conformal_age: Any  # [Mpc]
    age_Gyr: Any  # [Gyr]
    lna0: float = eqx.field(static=True, default=math.log(1e-14))
    dlna: float = eqx.field(static=True, default=1.0)

    # ---- grid
    @property
    def n(self) -> int:
        return int(self.ln_tau.shape[0])

    @property
    def lna(self):
        """The ln a grid (n,)."""
        return self.lna0 + self.dlna * jnp.arange(self.n, dtype=jnp.float64)

    @property
    def H0(self):
        """Hubble rate today [1/Mpc]."""
        return self.model.H0

    @property
    def K(self):
        """Curvature K = -Omega_k H0^2 [1/Mpc^2]."""
        return self.model.K

    @staticmethod
    def _lna_of_z(z):
        return -jnp.log1p(jnp.asarray(z, dtype=jnp.float64))

    def _interp(self, z, y, dy):
        return _hermite(self._lna_of_z(z), self.lna0, self.dlna, y, dy)

    # ---- closed form
    def rho_of_z(self, z) -> dict:
        """CLASS-unit densities [1/Mpc^2] at z: see `BackgroundModel.densities` for the keys."""
        return self.model.densities(1.0 / (1.0 + jnp.asarray(z, dtype=jnp.float64)))

    def H_of_z(self, z):
        """Hubble rate H(z) [1/Mpc] (Friedmann equation, closed form)."""
        return self.rho_of_z(z)["H"]

    # ---- tabulated
    def tau_of_z(self, z):
        """Conformal time tau(z) [Mpc]."""
        return jnp.exp(self._interp(z, self.ln_tau, self.d_ln_tau))

    def proper_time_of_z(self, z):
        """Proper (cosmic) time t(z) [Mpc] (divide by constants.Gyr_over_Mpc for Gyr)."""
        return jnp.exp(self._interp(z, self.ln_t, self.d_ln_t))

    def z_of_tau(self, tau):
        """Redshift at conformal time tau [Mpc]: Newton on the Hermite interpolant of ln tau(ln a);
        the derivative comes from the implicit-function theorem (last Newton step kept in the graph)."""
        lt = jnp.log(jnp.asarray(tau, dtype=jnp.float64))
        args = (self.lna0, self.dlna, self.ln_tau, self.d_ln_tau)
        lt_s = jax.lax.stop_gradient(lt)
        args_s = jax.lax.stop_gradient(args)
        x = jnp.interp(lt_s, args_s[2], self.lna0 + self.dlna * jnp.arange(self.n, dtype=jnp.float64))
        for _ in range(4):
            x = x - (_hermite(x, *args_s) - lt_s) / _hermite_deriv(x, *args_s)
        x = jax.lax.stop_gradient(x)
        x = x - (_hermite(x, *args) - lt) / _hermite_deriv(x, *args)
        return jnp.expm1(-x)

    def comoving_distance(self, z):
        """Conformal (line-of-sight comoving) distance chi(z) = tau0 - tau(z) [Mpc] (classy's
        comoving_distance, CLASS's 'comov. dist.')."""
        return self.conformal_age - self.tau_of_z(z)

    def comoving_radius(self, z):
        """Transverse comoving distance sinn_K(chi) [Mpc]."""
        return sinn(self.K, self.comoving_distance(z))

    def angular_distance(self, z):
        """Angular-diameter distance sinn_K(chi)/(1+z) [Mpc]."""
        return self.comoving_radius(z) / (1.0 + jnp.asarray(z, dtype=jnp.float64))

    def luminosity_distance(self, z):
        """Luminosity distance sinn_K(chi)(1+z) [Mpc]."""
        return self.comoving_radius(z) * (1.0 + jnp.asarray(z, dtype=jnp.float64))

    def angular_distance_from_to(self, z1, z2):
        """Angular distance of a source at z2 seen from z1 [Mpc] (classy): sinn_K(chi2-chi1)/(1+z2),
        0 if z1 >= z2."""
        z1 = jnp.asarray(z1, dtype=jnp.float64)
        z2 = jnp.asarray(z2, dtype=jnp.float64)
        d = sinn(self.K, self.tau_of_z(z1) - self.tau_of_z(z2)) / (1.0 + z2)
        return jnp.where(z1 >= z2, 0.0, d)

    def rs_of_z(self, z):
        """Comoving sound horizon r_s(z) [Mpc] (CLASS 'comov.snd.hrz.', with its curvature factor)."""
        return sinn(self.K, self._interp(z, self.rs_I, self.d_rs_I))

    def growth_D(self, z):
        """Scale-independent growth factor D(z), D(0) = 1 (CLASS 'gr.fac. D')."""
        return self._interp(z, self.D, self.u)

    def growth_f(self, z):
        """Growth rate f = dln D / dln a (CLASS 'gr.fac. f')."""
        return self._interp(z, self.u, self.d_u) / self.growth_D(z)


def _growth_coeffs(dens):
    """(c1, c2) of du/dx = c1 u + c2 D (module docstring)."""
    H2 = dens["crit"]
    # H'/(a H^2) = (-3/2 (rho + p) + K/a^2) / H^2 and K/a^2 = rho_tot - H^2
    c1 = -(2.0 + (-1.5 * (dens["tot"] + dens["p_tot"]) + (dens["tot"] - H2)) / H2)
    c2 = 1.5 * (dens["b"] + dens["cdm"]) / H2
    return c1, c2


def background_solve(params: CosmoParams, prec: BackgroundPrecision) -> Background:
    """Tabulate the background for ``params`` (see module docstring). Pure, jit/grad/vmap-able.

    CLASS moves a_ini earlier (by factors _SCALE_BACK_ = 0.1) until every ncdm species has
    |p/rho - 1/3| < tol_ncdm_initial_w = 1e-3 (background_initial_conditions). Within the allowed masses
    (m_ncdm <= 50 eV, params.RANGES) M a_ini < 3e-9 at a_ini = 1e-14, p/rho - 1/3 ~ (M a)^2 < 1e-17, so
    that search never moves a_ini and the table starts at prec.a_ini as in CLASS."""
    model = background_model(params, prec)
    n = int(prec.n_loga)
    lna0 = float(math.log(prec.a_ini))
    dx = -lna0 / (n - 1)
    x = lna0 + dx * jnp.arange(n, dtype=jnp.float64)
    x = x.at[-1].set(0.0)
    a = jnp.exp(x)
    dn = model.densities(a)
    H = dn["H"]
    R = 0.75 * dn["b"] / dn["g"]
    # integrands at the nodes (exact x-derivatives for the Hermite tables)
    f_tau = 1.0 / (a * H)
    f_t = 1.0 / H
    f_rs = f_tau / jnp.sqrt(3.0 * (1.0 + R))
    # Gauss-Legendre nodes inside each interval
    g, gw = np.polynomial.legendre.leggauss(int(prec.n_gl))
    xg = (x[:-1, None] + 0.5 * dx * (jnp.asarray(g)[None, :] + 1.0))  # (n-1, n_gl)
    ag = jnp.exp(xg)
    dg = model.densities(ag)
    Hg = dg["H"]
    Rg = 0.75 * dg["b"] / dg["g"]
    wts = 0.5 * dx * jnp.asarray(gw)
    inc_tau = jnp.sum(wts / (ag * Hg), axis=1)
    inc_t = jnp.sum(wts / Hg, axis=1)
    inc_rs = jnp.sum(wts / (ag * Hg * jnp.sqrt(3.0 * (1.0 + Rg))), axis=1)
    # radiation-era initial values (background_initial_conditions)
    tau_ini = 1.0 / (a[0] * H[0])
    t_ini = 0.5 / H[0]
    rs_ini = tau_ini / math.sqrt(3.0)
    zero = jnp.zeros((1,))
    tau = tau_ini + jnp.concatenate([zero, jnp.cumsum(inc_tau)])
    t = t_ini + jnp.concatenate([zero, jnp.cumsum(inc_t)])
    rsI = rs_ini + jnp.concatenate([zero, jnp.cumsum(inc_rs)])

    # growth ODE, RK4 on the grid (coefficients at nodes and interval midpoints)
    c1, c2 = _growth_coeffs(dn)
    dm = model.densities(jnp.exp(x[:-1] + 0.5 * dx))
    m1, m2 = _growth_coeffs(dm)

    def rhs(y, k1, k2):
        return jnp.stack([y[1], k1 * y[1] + k2 * y[0]])

    def step(y, cs):
        a1, a2, b1, b2, e1, e2 = cs
        k1 = rhs(y, a1, a2)
        k2 = rhs(y + 0.5 * dx * k1, b1, b2)
        k3 = rhs(y + 0.5 * dx * k2, b1, b2)
        k4 = rhs(y + dx * k3, e1, e2)
        y = y + dx / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        return y, y

    y0 = jnp.array([1.0, 2.0])  # D = 1, D' = 2 a H  <=>  u = dD/dln a = 2
    cs = (c1[:-1], c2[:-1], m1, m2, c1[1:], c2[1:])
    _, ys = jax.lax.scan(step, y0, cs)
    ys = jnp.concatenate([y0[None, :], ys], axis=0)
    D_today = ys[-1, 0]
    D = ys[:, 0] / D_today
    u = ys[:, 1] / D_today
    d_u = c1 * u + c2 * D

    return Background(
        model=model, ln_tau=jnp.log(tau), d_ln_tau=f_tau / tau, ln_t=jnp.log(t), d_ln_t=f_t / t,
        rs_I=rsI, d_rs_I=f_rs, D=D, u=u, d_u=d_u, H_table=H, conformal_age=tau[-1],
        age_Gyr=t[-1] / C.Gyr_over_Mpc, lna0=lna0, dlna=dx,
    )


# ----------------------------------------------------------------------------------------- outputs
def derived_densities(params: CosmoParams, prec: BackgroundPrecision | None = None) -> dict:
    """CLASS-named density parameters today (jnp scalars; 'Omega0_ncdm' has one entry per species).

    Omega0_m / Omega0_r count the ncdm split rho - 3p / 3p as CLASS (background_functions), Neff is
    CLASS's definition at the first table time a_ini (background_solve): (rho_r - rho_g) / (7/8 (4/11)^(4/3)
    rho_g)."""
    prec = BackgroundPrecision() if prec is None else prec
    m = background_model(params, prec)
    d0 = m.densities(jnp.ones(()))
    di = m.densities(jnp.asarray(prec.a_ini))
    H02 = m.H0 * m.H0
    return {
        "Omega0_g": m.Omega0_g, "Omega0_b": m.Omega0_b, "Omega0_cdm": m.Omega0_cdm, "Omega0_ur": m.Omega0_ur,
        "Omega0_ncdm": m.Omega0_ncdm, "Omega0_ncdm_tot": jnp.sum(m.Omega0_ncdm),
        "Omega0_lambda": m.Omega0_lambda, "Omega0_fld": m.Omega0_fld, "Omega0_k": -m.K / H02,
        "Omega0_m": d0["m"] / d0["crit"], "Omega0_r": d0["r"] / d0["crit"],
        "Neff": (di["r"] - di["g"]) / (C.nu_over_gamma * di["g"]),
    }


def _nonzero(x) -> bool:
    """CLASS's has_* flags (Omega0_i != 0); True when ``x`` is traced (value unknown)."""
    try:
        return bool(np.any(np.asarray(x) != 0.0))
    except Exception:  # tracer
        return True


def background_table(bg: Background, z=None) -> dict:
    """Background columns with CLASS/classy ``get_background()`` titles (background_output_titles),
    at redshifts ``z`` (default: the table nodes, z decreasing from 1/a_ini - 1 to 0)."""
    z = jnp.expm1(-bg.lna) if z is None else jnp.asarray(z, dtype=jnp.float64)
    m = bg.model
    d = bg.rho_of_z(z)
    chi = bg.comoving_distance(z)
    r = sinn(bg.K, chi)
    out = {
        "z": z,
        "proper time [Gyr]": bg.proper_time_of_z(z) / C.Gyr_over_Mpc,
        "conf. time [Mpc]": bg.tau_of_z(z),
        "H [1/Mpc]": d["H"],
        "comov. dist.": chi,
        "ang.diam.dist.": r / (1.0 + z),
        "lum. dist.": r * (1.0 + z),
        "comov.snd.hrz.": bg.rs_of_z(z),
        "(.)rho_g": d["g"],
        "(.)rho_b": d["b"],
    }
    if _nonzero(m.Omega0_cdm):
        out["(.)rho_cdm"] = d["cdm"]
    for i in range(int(m.M_ncdm.shape[0])):
        out[f"(.)rho_ncdm[{i}]"] = d["ncdm"][..., i]
        out[f"(.)p_ncdm[{i}]"] = d["p_ncdm"][..., i]
    if _nonzero(m.Omega0_lambda):
        out["(.)rho_lambda"] = d["lambda"]
    if m.has_fld:
        out["(.)rho_fld"] = d["fld"]
        out["(.)w_fld"] = d["w_fld"]
    if _nonzero(m.Omega0_ur):
        out["(.)rho_ur"] = d["ur"]
    out["(.)rho_crit"] = d["crit"]
    out["(.)rho_tot"] = d["tot"]
    out["(.)p_tot"] = d["p_tot"]
    # background_functions: p_tot_prime = a H dp/dloga
    out["(.)p_tot_prime"] = d["H"] / (1.0 + z) * d["dp_dloga"]
    out["Omega_r(z)"] = d["r"] / d["crit"]
    out["Omega_m(z)"] = d["m"] / d["crit"]
    out["gr.fac. D"] = bg.growth_D(z)
    out["gr.fac. f"] = bg.growth_f(z)
    return out
