"""HaloFit nonlinear matter power spectrum as CLASS 3.4.1 computes it (``external/Halofit/halofit.c``).

Takahashi et al. 2012 (arXiv:1208.2701, eqs. A4-A12: the fit of Smith et al. 2003 refitted to N-body
runs) with the massive-neutrino terms of Bird, Viel & Haehnelt 2012 (arXiv:1109.4416) in the form CLASS
applies them (since v2.9.3 without the (Omega_m - 0.3) factor; k/h in the P_lin enhancement).

Steps, for one redshift and one spectrum (total matter P_m with f_nu = Omega0_ncdm_tot / Omega0_m, or
CDM + baryons P_cb with f_nu = 0; fourier.c computes both and stores P_cb's k_nl as ``k_nl_cb``):

1. The linear spectrum is tabulated at CLASS's quadrature points (`class_k_grid`), 80 per decade from
   CLASS's k_min to its last perturbation wavenumber k_last >= max(P_k_max, nonlinear_min_k_max = 5 /Mpc).
2. sigma^2(R) = int dk k^2 P(k) / (2 pi^2) exp(-k^2 R^2) (Gaussian window), and the two integrals giving
   d ln sigma^2 / d ln R and its derivative (``halofit_integral_two/three``) with the weights 2 x^2 and
   4 x^2 (1 - x^2), x = kR, all by CLASS's natural-spline quadrature.
3. R_nl: sigma(R_nl) = 1, found as CLASS does, by bisection in log10 R between R_min =
   sqrt(-ln halofit_sigma_precision) / k_last and 1 / halofit_min_k_nonlinear, stopped when
   |sigma - 1| <= halofit_tol_sigma (then two Newton steps to the exact root, see
   ``HalofitPrecision.newton_steps``).  If sigma(R_min) < 1 the nonlinear scale is beyond the tabulated
   range: CLASS then returns the linear spectrum (and so does this module, ``computable`` False).  The
   derivative of R_nl comes from the implicit-function theorem (custom JVP), not from the iterations.
4. k_nl = 1 / R_nl, n_eff = -3 - d ln sigma^2 / d ln R, C = -d^2 ln sigma^2 / d ln R^2, then the
   quasi-linear and halo terms (halofit.c, one line each below) with Omega_m(z), Omega_v(z) =
   1 - Omega_m(z) - Omega_r(z) (so Omega_v includes curvature) and w(z) = w0 + wa (1 - a) of the fluid
   (w = -1 for a cosmological constant), from the background at z.  Wavenumbers k <= 1e-4 /Mpc
   (halofit_min_k_nonlinear) keep the linear spectrum.

CLASS computes P_nl at its time nodes and interpolates ln P_nl in ln tau and ln k; here P_nl is evaluated
at the requested (k, z) directly (CLASS's interpolation differs from that by <~ 1e-5 at z <= 2).  Units:
k in 1/Mpc, P in Mpc^3.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from .class_k_grid import ClassKGridPrecision, class_k_last, class_k_min, quadrature_points, spline_weights

_ANORM = 1.0 / (2.0 * jnp.pi**2)


@dataclasses.dataclass(frozen=True)
class HalofitPrecision:
    """CLASS's Halofit precision parameters (include/precisions.h) and the static array length."""

    k_per_decade: float = 80.0  # halofit_k_per_decade: quadrature points per decade of k
    sigma_precision: float = 0.05  # halofit_sigma_precision: exp(-(k_last R_min)^2) at the smallest R tried
    min_k_nonlinear: float = 1e-4  # halofit_min_k_nonlinear [1/Mpc]: linear below; R_max = 1 / this
    tol_sigma: float = 1e-6  # halofit_tol_sigma: bisection stops at |sigma(R) - 1| <= this
    min_k_max: float = 5.0  # nonlinear_min_k_max [1/Mpc]: the perturbations go at least this far
    max_iterations: int = 10000  # CLASS _MAX_IT_ (common.h): bisection iteration bound
    # Newton steps on sigma^2(R) = 1 after CLASS's bisection.  0: CLASS's stopping point, |sigma - 1| <=
    # tol_sigma, bit for bit; 2: the exact root (to ~1e-15), so that P_nl is a smooth function of the
    # parameters, consistent with its implicit-function derivative (finite differences of the bisection's
    # stopping point jump by up to ~3e-6 in P_nl, CLASS's own noise; measured stage change <= 3e-6)
    newton_steps: int = 2
    k_grid: ClassKGridPrecision = ClassKGridPrecision()


class HalofitState(eqx.Module):
    """The scale-dependent ingredients of HaloFit at one redshift (arrays of shape S for a batch of z)."""

    k_nl: Any  # 1 / R_nl [1/Mpc]
    n_eff: Any  # -3 - d ln sigma^2 / d ln R at R_nl
    curvature: Any  # C = -d^2 ln sigma^2 / d ln R^2 at R_nl
    omega_m: Any  # Omega_m(z) (CLASS background Omega_m: rho_m / rho_crit, ncdm counted as rho - 3p)
    omega_v: Any  # 1 - Omega_m(z) - Omega_r(z)
    w: Any  # dark-energy equation of state at z
    f_nu: Any  # Omega0_ncdm_tot / Omega0_m (P_m) or 0 (P_cb)
    h: Any
    computable: Any  # False where sigma(R_min) < 1: the linear spectrum is returned
    iterations: Any  # bisection iterations (> max_iterations: CLASS would stop with an error)
    # sigma(R_max), R_max = 1 / min_k_nonlinear: the bisection's upper end; > 1 means the root sigma(R) = 1 lies
    # outside the bracket (CLASS halofit.c stops: "decrease halofit_min_k_nonlinear")
    sigma_r_max: Any = None


# ------------------------------------------------------------------------------------------ quadrature
def quadrature(k_min, k_last, prec: HalofitPrecision, n_max: int):
    """CLASS's Halofit quadrature: points k (n_max,) [1/Mpc], weights w (n_max,) [1/Mpc] (zero beyond the
    n points CLASS uses) and n."""
    k, n = quadrature_points(k_min, k_last, prec.k_per_decade, n_max)
    return k, spline_weights(k, n), n


def _sigma2(g, q, log10_r):
    """sigma^2(R) = sum_i g_i exp(-q_i R^2), g_i = w_i k_i^2 P_i / (2 pi^2), q_i = k_i^2."""
    r2 = 10.0 ** (2.0 * log10_r)
    return jnp.sum(g * jnp.exp(-q * r2))


def _bisect(g, q, x_lo, x_hi, tol, max_it):
    """CLASS's bisection in x = log10 R (halofit.c): rmid = 10^((x1 + x2) / 2); x1 <- log10 rmid where
    sigma - 1 > tol, x2 <- log10 rmid where sigma - 1 < -tol; until |sigma(rmid) - 1| <= tol.
    Returns (x, iterations); only run where sigma(R_min) >= 1 (``computable``)."""
    computable = _sigma2(g, q, x_lo) >= 1.0

    def cond(c):
        _, _, _, diff, it = c
        return (jnp.abs(diff) > tol) & (it <= max_it) & computable

    def body(c):
        x1, x2, _, _, it = c
        rmid = 10.0 ** ((x1 + x2) / 2.0)
        xm = jnp.log10(rmid)
        diff = jnp.sqrt(_sigma2(g, q, xm)) - 1.0
        x1 = jnp.where(diff > tol, xm, x1)
        x2 = jnp.where(diff < -tol, xm, x2)
        return x1, x2, xm, diff, it + 1

    init = (x_lo, x_hi, x_lo, jnp.asarray(jnp.inf), jnp.asarray(0))
    _, _, xm, _, it = jax.lax.while_loop(cond, body, init)
    return xm, it


@functools.partial(jax.custom_jvp, nondiff_argnums=(4, 5, 6))
def _log10_r_nl(g, q, x_lo, x_hi, tol, max_it, newton_steps):
    """(log10 R_nl, iterations as a float): CLASS's bisection, then ``newton_steps`` Newton steps on
    sigma^2(10^x) = 1 where a root exists; derivative by the implicit-function theorem."""
    x, it = _bisect(g, q, x_lo, x_hi, tol, max_it)
    has_root = _sigma2(g, q, x_lo) >= 1.0
    for _ in range(newton_steps):
        F, dF_dx = jax.value_and_grad(_sigma2, argnums=2)(g, q, x)
        x = jnp.where(has_root, x - (F - 1.0) / jnp.where(has_root, dF_dx, 1.0), x)
    return x, it.astype(float)


@_log10_r_nl.defjvp
def _log10_r_nl_jvp(tol, max_it, newton_steps, primals, tangents):
    """F(x; g, q) = sigma^2(10^x) - 1 = 0  =>  dx = -(dF/dg . dg + dF/dq . dq) / (dF/dx); the bracket
    (x_lo, x_hi) does not move the root.  Zero where there is no root (sigma(R_min) < 1)."""
    g, q, x_lo, x_hi = primals
    dg, dq = tangents[0], tangents[1]
    x, it = _log10_r_nl(g, q, x_lo, x_hi, tol, max_it, newton_steps)
    _, dF = jax.jvp(lambda gg, qq: _sigma2(gg, qq, x), (g, q), (dg, dq))
    dF_dx = jax.grad(_sigma2, argnums=2)(g, q, x)
    has_root = _sigma2(g, q, x_lo) >= 1.0
    dx = jnp.where(has_root, -dF / jnp.where(has_root, dF_dx, 1.0), 0.0)
    return (x, it), (dx, jnp.zeros_like(it))


def nonlinear_scale(k, w, p, prec: HalofitPrecision):
    """R_nl-derived quantities from the linear spectrum p [Mpc^3] at quadrature points k with weights w:
    (k_nl [1/Mpc], n_eff, C, computable, iterations) (halofit.c)."""
    g = w * k * k * p * _ANORM
    q = k * k
    k_top = jnp.max(jnp.where(w > 0, k, 0.0))  # last quadrature point CLASS uses
    x_lo = jnp.log10(jnp.sqrt(-jnp.log(prec.sigma_precision)) / k_top)
    x_hi = jnp.log10(1.0 / prec.min_k_nonlinear) * jnp.ones_like(x_lo)
    computable = _sigma2(g, q, x_lo) >= 1.0
    x, it = _log10_r_nl(g, q, x_lo, x_hi, prec.tol_sigma, prec.max_iterations, prec.newton_steps)
    r2 = 10.0 ** (2.0 * x)
    e = g * jnp.exp(-q * r2)
    x2 = q * r2
    sum1 = jnp.sum(e)
    sum2 = jnp.sum(e * 2.0 * x2)
    sum3 = jnp.sum(e * 4.0 * x2 * (1.0 - x2))
    d1 = -sum2 / sum1
    d2 = -sum2 * sum2 / sum1 / sum1 - sum3 / sum1
    return 10.0 ** (-x), -3.0 - d1, -d2, computable, it


# ------------------------------------------------------------------------------------------ fit
def halofit_pk(state: HalofitState, k, p_lin, prec: HalofitPrecision = HalofitPrecision()):
    """P_nl(k) [Mpc^3] from the linear spectrum p_lin(k) [Mpc^3] at wavenumbers k [1/Mpc] (any shape
    broadcasting with the state's) by the Takahashi 2012 + Bird 2012 fit, halofit.c line by line."""
    rn, rc = state.n_eff, state.curvature
    om, ov, w, fnu = state.omega_m, state.omega_v, state.w, state.f_nu
    pk_lin = p_lin * k**3 * _ANORM  # dimensionless Delta^2_L
    gam = 0.1971 - 0.0843 * rn + 0.8460 * rc
    a = 10.0 ** (1.5222 + 2.8553 * rn + 2.3706 * rn**2 + 0.9903 * rn**3 + 0.2250 * rn**4 - 0.6038 * rc
                 + 0.1749 * ov * (1.0 + w))
    b = 10.0 ** (-0.5642 + 0.5864 * rn + 0.5716 * rn**2 - 1.5474 * rc + 0.2279 * ov * (1.0 + w))
    c = 10.0 ** (0.3698 + 2.0404 * rn + 0.8161 * rn**2 + 0.5869 * rc)
    xnu = 10.0 ** (5.2105 + 3.6902 * rn)  # xmu = 0 (Takahashi 2012)
    alpha = jnp.abs(6.0835 + 1.3373 * rn - 0.1959 * rn**2 - 5.5274 * rc)
    beta = (2.0379 - 0.7354 * rn + 0.3157 * rn**2 + 1.2490 * rn**3 + 0.3980 * rn**4 - 0.1682 * rc
            + fnu * (1.081 + 0.395 * rn**2))
    # Omega_m dependence (Takahashi 2012 eq. A13-A14), interpolated in Omega_v / (1 - Omega_m)
    evolve = jnp.abs(1.0 - om) > 0.01
    om_s = jnp.where(evolve, om, 0.5)  # a safe value in the unused branch
    frac = jnp.where(evolve, ov / (1.0 - om_s), 0.0)
    f1 = jnp.where(evolve, frac * om_s**-0.0307 + (1.0 - frac) * om_s**-0.0732, 1.0)
    f2 = jnp.where(evolve, frac * om_s**-0.0585 + (1.0 - frac) * om_s**-0.1423, 1.0)
    f3 = jnp.where(evolve, frac * om_s**0.0743 + (1.0 - frac) * om_s**0.0725, 1.0)
    y = k / state.k_nl
    pk_halo = a * y ** (f1 * 3.0) / (1.0 + b * y**f2 + (f3 * c * y) ** (3.0 - gam))
    pk_halo = pk_halo / (1.0 + xnu * y**-2) * (1.0 + fnu * 0.977)
    # Bird et al.: 47.48 and 1.5 are in (h/Mpc)^-2, hence k / h (halofit.c, credits A. J. Cuesta)
    kh2 = (k / state.h) ** 2
    pk_linaa = pk_lin * (1.0 + fnu * 47.48 * kh2 / (1.0 + 1.5 * kh2))
    pk_quasi = pk_lin * (1.0 + pk_linaa) ** beta / (1.0 + pk_linaa * alpha) * jnp.exp(-y / 4.0 - y**2 / 8.0)
    p_nl = (pk_halo + pk_quasi) / k**3 / _ANORM
    nonlinear = state.computable & (k > prec.min_k_nonlinear)
    return jnp.where(nonlinear, p_nl, p_lin)


# ------------------------------------------------------------------------------------------ cosmology
def background_at(bg, z):
    """(Omega_m(z), Omega_v(z), w(z)) as halofit.c reads them from CLASS's background at z."""
    z = jnp.asarray(z, dtype=float)
    d = bg.rho_of_z(z)
    om = d["m"] / d["crit"]
    ov = 1.0 - om - d["r"] / d["crit"]
    m = bg.model
    w = d["w_fld"] if m.has_fld else -jnp.ones_like(z)  # background_w_fld: w0_fld = -1 without a fluid
    return om, ov, w


def f_nu(bg):
    """Omega0_ncdm_tot / Omega0_m (CLASS background Omega0_m, ncdm counted as rho - 3p)."""
    d0 = bg.rho_of_z(0.0)
    return jnp.sum(bg.model.Omega0_ncdm) / (d0["m"] / d0["crit"])


def class_k_range(res, k_max, prec: HalofitPrecision):
    """(k_min, k_last) [1/Mpc] of CLASS's perturbation grid for a P(k)-only run with Halofit:
    k_max = max(P_k_max, nonlinear_min_k_max) (`class_k_grid`)."""
    bg, th = res.background, res.thermo
    k_min = class_k_min(bg.conformal_age, bg.K, th.ra_rec, th.tau_rec, prec.k_grid)
    k_last = class_k_last(k_min, th.rs_rec, jnp.maximum(k_max, prec.min_k_max), prec.k_grid)
    return k_min, k_last


# ------------------------------------------------------------------------------------------ tables
def linear_at(lp, k, z, cb: bool = False):
    """Linear P_m (or P_cb) [Mpc^3], shape (len(k), len(z)), from a `fourier.LinearPk`, continued below its
    first solved wavenumber with a constant transfer function (super-horizon modes today: delta ~ k^2 in
    synchronous gauge, P ~ k P_R(k)); CLASS's quadrature starts at k_min ~ 1e-5 /Mpc, below boltzax's
    table, where k^3 P contributes < 1e-12 of sigma^2."""
    from ..fourier import primordial_PR

    k = jnp.atleast_1d(jnp.asarray(k, dtype=float))
    kc = jnp.clip(k, lp.k[0], lp.k[-1])
    p = (lp.pk_cb if cb else lp.pk_m)(kc, z)
    below = jnp.where(k < lp.k[0], k / kc * primordial_PR(lp.params, k) / primordial_PR(lp.params, kc), 1.0)
    return p * below[:, None]


def halofit_states(res, lp, z, k_max, cb: bool, prec: HalofitPrecision, n_max: int) -> HalofitState:
    """HalofitState at redshifts z (n_z,) (fields of shape (n_z,)) from computed ``res`` and its linear
    P(k, z) ``lp`` (solved at least up to CLASS's k_last), for a run with P_k_max = k_max [1/Mpc]."""
    z = jnp.atleast_1d(jnp.asarray(z, dtype=float))
    k_min, k_last = class_k_range(res, k_max, prec)
    kq, wq, _ = quadrature(k_min, k_last, prec, n_max)
    p = linear_at(lp, kq, z, cb)  # (n_max, n_z)
    k_nl, n_eff, curv, computable, it = jax.vmap(lambda pz: nonlinear_scale(kq, wq, pz, prec), in_axes=1)(p)
    g = (wq * kq * kq * _ANORM)[:, None] * p
    sigma_r_max = jnp.sqrt(jnp.sum(g * jnp.exp(-(kq / prec.min_k_nonlinear)[:, None] ** 2), axis=0))
    om, ov, w = background_at(res.background, z)
    fnu = jnp.zeros_like(z) if cb else f_nu(res.background) * jnp.ones_like(z)
    return HalofitState(k_nl=k_nl, n_eff=n_eff, curvature=curv, omega_m=om, omega_v=ov, w=w, f_nu=fnu,
                        h=res.params.h, computable=computable, iterations=it, sigma_r_max=sigma_r_max)


def halofit_power(res, lp, k, z, k_max, cb: bool = False, prec: HalofitPrecision = HalofitPrecision(),
                  n_max: int | None = None):
    """Nonlinear P_m (or P_cb) [Mpc^3], shape (len(k), len(z)), at wavenumbers k [1/Mpc] and redshifts z,
    and the HalofitState at z.  Pure: works under jit (n_max static), jacfwd, vmap."""
    from .class_k_grid import n_points_max

    if n_max is None:
        n_max = n_points_max(max(float(k_max), prec.min_k_max), prec.k_per_decade, g=prec.k_grid)
    st = halofit_states(res, lp, z, k_max, cb, prec, n_max)
    k = jnp.atleast_1d(jnp.asarray(k, dtype=float))
    p_lin = (lp.pk_cb if cb else lp.pk_m)(k, jnp.atleast_1d(jnp.asarray(z, dtype=float)))
    return halofit_pk(st, k[:, None], p_lin, prec), st
