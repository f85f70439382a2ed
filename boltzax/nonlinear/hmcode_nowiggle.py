"""The no-wiggle linear spectrum as CLASS 3.4.1 computes it for HMcode 2020 and for classy's
``pk_numerical_nw`` / ``pk_analytic_nw`` (``external/HMcode/hmcode.c``: hmcode_eisenstein_hu,
hmcode_nowiggle, hmcode_nowiggle_init, hmcode_wnw_split).  k [1/Mpc], P [Mpc^3].

* `analytic_lnpk`: the Eisenstein & Hu (1998, astro-ph/9709112, eqs. 26-31) zero-baryon-wiggle transfer
  function with the baryon-suppressed shape parameter Gamma, normalised as CLASS does (Kofman et al. 1993
  growth g(Omega_m) = Omega_m^0.2 / (1 + 0.003 (Omega_L / Omega_m)^(4/3)); Lesgourgues et al., "Neutrino
  Cosmology" (CUP 2013) eq. 6.34): P = norm k^n_s T^2, norm = (g / Omega_m / H0^2)^2 8 pi^2 / 25
  A_s / k_pivot^(n_s - 1), with CLASS's omega_m = (1 - Omega_Lambda - Omega_fld) h^2.  (Only its shape matters
  for the numerical no-wiggle spectrum and HMcode: it divides out.)
* `split`: P_nw = S_sigma[P / P_EH] P_EH, P_wiggle = P - P_nw on nk_wiggle = 512 points uniform in ln k from
  ln(5e-3) to ln(5) (CLASS's "Mpc/h" comment notwithstanding, these are ln(k Mpc)), S_sigma the Gaussian
  smoothing in ln k with sigma = 0.25 (array_smooth_Gaussian: points within 3 sigma of either end are left
  unsmoothed, the others are the normalised Gaussian-weighted mean over all points).  P and P_EH come from
  CLASS's natural splines of ln P in ln k on the extended k grid.
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from . import class_splines as cs

WIGGLE_SIGMA = 0.25  # hmcode_nowiggle wiggle_sigma
LNK_WIGGLE_MIN = math.log(5e-3)  # kmin_wiggle
LNK_WIGGLE_MAX = math.log(5.0)  # kmax_wiggle
N_SIGMA = 3.0  # array_smooth_Gaussian nsig


def analytic_lnpk(k, c):
    """ln P_EH(k) [Mpc^3] (hmcode_eisenstein_hu).  c: dict with h, Omega0_lambda, Omega0_fld, Omega0_b,
    T_cmb [K], n_s, A_s, k_pivot [1/Mpc], H0 [1/Mpc]."""
    h = c["h"]
    om = 1.0 - c["Omega0_lambda"] - c["Omega0_fld"]
    wm = om * h * h
    wb = c["Omega0_b"] * h * h
    rb = wb / wm
    s = 44.5 * jnp.log(9.83 / wm) / jnp.sqrt(1.0 + 10.0 * wb**0.75)
    alpha = 1.0 - 0.328 * jnp.log(431.0 * wm) * rb + 0.38 * jnp.log(22.3 * wm) * rb * rb
    ns = c["n_s"]
    ol = c["Omega0_lambda"] + c["Omega0_fld"]
    g = om**0.2 / (1.0 + 0.003 * (ol / om) ** (4.0 / 3.0))
    coeff = g / om / c["H0"] / c["H0"]
    norm = coeff**2 * 8.0 * math.pi**2 / 25.0 * c["A_s"] / c["k_pivot"] ** (ns - 1.0)
    gamma = (wm / h) * (alpha + (1.0 - alpha) / (1.0 + (0.43 * k * s) ** 4))
    q = k / h * (c["T_cmb"] / 2.7) ** 2 / gamma
    big_l = jnp.log(2.0 * math.e + 1.8 * q)
    big_c = 14.2 + 731.0 / (1.0 + 62.5 * q)
    tk = big_l / (big_l + big_c * q * q)
    return jnp.log(norm * k**ns * tk**2)


def lnk_wiggle(n: int = 512):
    """CLASS's de-wiggling nodes ln k (n,)."""
    return LNK_WIGGLE_MIN + jnp.arange(n) * (LNK_WIGGLE_MAX - LNK_WIGGLE_MIN) / (n - 1)


def smooth_gaussian(x, y, sigma: float = WIGGLE_SIGMA):
    """array_smooth_Gaussian on (x, y) (n,): unchanged within N_SIGMA sigma of either end."""
    d = x[:, None] - x[None, :]
    wgt = jnp.exp(-d * d / (2.0 * sigma * sigma))
    sm = (wgt @ y) / jnp.sum(wgt, axis=1)
    edge = (jnp.abs(x - x[0]) < N_SIGMA * sigma) | (jnp.abs(x - x[-1]) < N_SIGMA * sigma)
    return jnp.where(edge, y, sm)


def split(lnk_ext, lnpk_ext, dd_lnpk, ln_an_ext, dd_ln_an, n: int = 512):
    """(ln k_nw (n,), P_nw (n,), P_wiggle (n,)) [Mpc^3] (hmcode_nowiggle) from the natural splines of ln P
    and ln P_EH on the extended grid."""
    x = lnk_wiggle(n)
    lnp = cs.evaluate(lnk_ext, lnpk_ext, dd_lnpk, x)
    lna = cs.evaluate(lnk_ext, ln_an_ext, dd_ln_an, x)
    ratio = jnp.exp(lnp - lna)
    p_nw = smooth_gaussian(x, ratio) * jnp.exp(lna)
    return x, p_nw, jnp.exp(lnp) - p_nw
