"""The version-dependent fitted parts of HMcode as CLASS 3.4.1 writes them (``external/HMcode/hmcode.c``,
hmcode_compute).  Versions (CLASS enum hmcode_version): '2015' (Mead et al. 2015, arXiv:1505.07833, with the
2016 massive-neutrino terms of Mead et al. 2016, arXiv:1602.02154: CLASS's '2015' and '2016' are the same
code), '2020' (Mead et al. 2021, arXiv:2009.01858), and the two helpers of '2020_baryonic_feedback'
('2020_baryonic' with the Mead et al. 2021 section 5 baryon model, and '2020_unfitted'): CLASS returns
P_baryonic P_2020 / P_unfitted.  Every number below is the one in hmcode.c (equation numbers: the papers).
"""

from __future__ import annotations

import math

import jax.numpy as jnp

DELTA_C_EDS = (3.0 / 20.0) * (12.0 * math.pi) ** (2.0 / 3.0)  # Einstein-de Sitter delta_c ~ 1.686
VARIANTS = ("2015", "2020", "2020_baryonic", "2020_unfitted")


def collapse_thresholds(variant, sigma8, om_z, fnu, dv_x, dv_y, om_norad):
    """(delta_c, Delta_v).  2015: Mead 2015 eq. A2 / Nakamura & Suto (1997) Omega_m(z) factor (0.012299) /
    Mead 2016 neutrino factor (1 + 0.262 f_nu); Delta_v = 418 Omega_m(z)^-0.352 (1 + 0.916 f_nu).  2020: Mead
    2021 eqs. A1-A2 (Mead 2017 fits in g(a)/a = dv_x, int g/a da / a = dv_y, log10 Omega_m^norad) times
    (1 - 0.041 f_nu) and 18 pi^2 (1 + 0.763 f_nu).  om_z: CLASS's background Omega_m(z)."""
    if variant == "2015":
        dc = (1.59 + 0.0314 * jnp.log(sigma8)) * (1.0 + 0.012299 * jnp.log10(om_z)) * (1.0 + 0.262 * fnu)
        dv = 418.0 * om_z**-0.352 * (1.0 + 0.916 * fnu)
        return dc, dv
    x, y, lo = 1.0 - dv_x, 1.0 - dv_y, jnp.log10(om_norad)
    dc = 1.0 + (-0.0069 - 0.0208 * x + 0.0312 * x * x + 0.0021 * y) * lo \
        + (0.0001 - 0.0647 * x - 0.0417 * x * x + 0.0646 * y)
    dc = dc * DELTA_C_EDS * (1.0 - 0.041 * fnu)
    dv = 1.0 + (-0.79 - 10.17 * x + 2.51 * x * x + 6.51 * y) * lo \
        + (-1.89 + 0.38 * x + 18.8 * x * x - 15.87 * y) * lo * lo
    dv = dv * 18.0 * math.pi**2 * (1.0 + 0.763 * fnu)
    return dc, dv


def halo_parameters(variant, n_eff, z, sigma8, sigma8_cb, sigma_disp, sigma_disp100, h, c_min, eta_0, log10t):
    """dict: A (concentration amplitude, Bullock et al. 2001 form), alpha (1h-2h transition), eta (halo
    bloating), k_star (1-halo damping) [1/Mpc], fdamp, kdamp [1/Mpc] (2-halo damping).
    2015: Mead 2015 table 2 / eq. A3-A10 (c_min, eta_0 - 0.3 sigma8, k* = 0.584 / sigma_v,
    f = 0.0095 (sigma_v100 h)^1.37, alpha = 3.24 x 1.85^n_eff).  2020: Mead 2021 table 2 (sigma8 of the
    cb spectrum, "In CAMB, these are cb sigma8").  2020_baryonic: Mead 2021 eq. 26 (B = 3.44 - 0.496
    (log10 T_heat - 7.8), z-slope -0.0671 - 0.0371 (log10 T_heat - 7.8)), no damping, alpha = 1;
    2020_unfitted: A = 4, alpha = 1, no damping.  fdamp clipped to [1e-3, 0.99] (then 0 for the two
    baryonic helpers)."""
    zero = jnp.zeros_like(n_eff)
    if variant == "2015":
        p = dict(A=c_min + zero, alpha=3.24 * 1.85**n_eff, eta=eta_0 - 0.3 * sigma8, k_star=0.584 / sigma_disp,
                 fdamp=0.0095 * (sigma_disp100 * h) ** 1.37, kdamp=zero)
    elif variant == "2020":
        p = dict(A=5.1958429 + zero, alpha=1.8751465 * 1.6029913**n_eff, eta=0.1281210 * sigma8_cb**-0.3643963,
                 k_star=0.0561778 * sigma8_cb**-1.0131066 * h, fdamp=0.2695822 * sigma8_cb**0.9403087,
                 kdamp=0.0569871 * sigma8_cb**-1.0890162 * h)
    elif variant == "2020_baryonic":
        dt = log10t - 7.8
        p = dict(A=(-0.496 * dt + 3.44) * 10.0 ** (z * (-0.0371 * dt - 0.0671)) + zero, alpha=1.0 + zero,
                 eta=zero, k_star=zero, fdamp=zero, kdamp=zero)
    elif variant == "2020_unfitted":
        p = dict(A=4.0 + zero, alpha=1.0 + zero, eta=zero, k_star=zero, fdamp=zero, kdamp=zero)
    else:
        raise ValueError(f"HMcode variant {variant!r}")
    p["fdamp"] = jnp.clip(p["fdamp"], 1e-3, 0.99)
    if variant in ("2020_baryonic", "2020_unfitted"):
        p["fdamp"] = zero
    return p


def window_modification(variant, win, mass, z, fnu, h, omega_b, omega_cdm, omega_m, log10t):
    """The halo profile's mass-fraction changes: 2020 and 2020_unfitted: x (1 - f_nu) (neutrinos do not
    cluster in haloes, Mead 2021 eq. 22); 2020_baryonic: gas expulsion and stars (Mead 2021 eqs. 24-25:
    f_star = min(0.0201 - 0.0030 dT) 10^(z (0.409 + 0.0224 dT)), Omega_b / Omega_m), M_b = 10^(13.87 + 1.81 dT)
    10^(z (-0.108 + 0.195 dT)) M_sun/h, halo fraction f_c + (f_b - f_star) (M/M_b)^2 / (1 + (M/M_b)^2),
    dT = log10 T_heat - 7.8).  mass [M_sun]; Omega's today (CLASS's Omega0_b, Omega0_cdm, Omega0_m)."""
    if variant in ("2020", "2020_unfitted"):
        return win * (1.0 - fnu)
    if variant == "2020_baryonic":
        dt = log10t - 7.8
        sb = jnp.minimum((-0.0030 * dt + 0.0201) * 10.0 ** (z * (0.0224 * dt + 0.409)), omega_b / omega_m)
        mb = 10.0 ** (1.81 * dt + 13.87) * 10.0 ** ((0.195 * dt - 0.108) * z)
        ratio = (h * mass / mb) ** 2
        frac = omega_cdm / omega_m + (omega_b / omega_m - sb) * ratio / (1.0 + ratio)
        return win * frac + sb
    return win


def one_halo_damping(variant, k, k_star):
    """The large-scale suppression of the 1-halo term: 2015: 1 - exp(-(k/k*)^2), exactly 1 where
    (k/k*)^2 > 7 (Mead 2015 eq. A17); 2020: (k/k*)^4 / (1 + (k/k*)^4) (Mead 2021 eq. 17); else 1."""
    if variant == "2015":
        y2 = (k / k_star) ** 2
        return jnp.where(y2 > 7.0, 1.0, 1.0 - jnp.exp(-jnp.minimum(y2, 7.0)))
    if variant == "2020":
        ks = jnp.where(k_star == 0.0, 1.0, k_star)
        y4 = (k / ks) ** 4
        return jnp.where(k_star == 0.0, 1.0, y4 / (1.0 + y4))
    return jnp.ones_like(k)


def two_halo(variant, k, pk_lin, pk_wig, sigma_disp, fdamp, kdamp):
    """Dimensionless 2-halo term.  2015: Delta^2_lin (1 - f tanh^2(k sigma_v / sqrt f)) (Mead 2015 eq. A16);
    2020 family: de-wiggled Delta^2_lin + (exp(-k^2 sigma_v^2) - 1) Delta^2_wiggle (Mead 2021 eq. 14), times
    1 - f (k/k_d)^n / (1 + (k/k_d)^n), n = 2.8534197, where f > 0 (eq. 16)."""
    if variant == "2015":
        return jnp.where(fdamp > 0, pk_lin * (1.0 - fdamp * jnp.tanh(k * sigma_disp / jnp.sqrt(fdamp)) ** 2), pk_lin)
    p2 = pk_lin + (jnp.exp(-(k * k * sigma_disp * sigma_disp)) - 1.0) * pk_wig
    kd = jnp.where(kdamp == 0.0, 1.0, kdamp)
    y = (k / kd) ** 2.8534197
    return jnp.where(fdamp > 0, p2 * (1.0 - fdamp * y / (1.0 + y)), p2)
