"""Ingredients shared by all HMcode versions, as CLASS 3.4.1 computes them (``external/HMcode/hmcode.c``,
``source/fourier.c``, ``tools/trigonometric_integrals.c``).  Units: k [1/Mpc], R [Mpc], P [Mpc^3],
masses [M_sun].

* `extended_k`: CLASS's wavenumbers for HMcode (fourier_get_k_list): the perturbation grid, continued by
  k_per_decade_for_pk log steps until k >= hmcode_max_k_extra (1e6 /Mpc).
* `extrapolate_lnpk`: ln P on the continued grid.  fourier_get_source, ``extrap_max_scaled`` (CLASS's
  default ``extrapolation_method``): the transfer function S (P = 2 pi^2 / k^3 S^2 P_R) is continued as
  S(k) = S_max (L + ln k) / (L + ln k_max), L fixed by the last two perturbation nodes.
* `SigmaGrid` / `sigma2` / `sigma_prime` / `sigma_disp`: fourier_sigmas.  Points k_i = k_0 10^(i / 80)
  (sigma_k_per_decade) up to the last extended k, P(k_i) from the natural spline of ln P in ln k; the
  integrand of sigma^2 (top hat, W = 3 (sin x - x cos x) / x^3, or 1 - x^2 / 10 below x = 0.01) in the
  variable t = 1 / (1 + k), of sigma_disp^2 in k, each integrated by CLASS's estimated-derivative spline.
  The spline integral is linear in the integrand, so it is a dot product with fixed weights.
* `sine_integral` / `cosine_integral`: CLASS's rational approximations (Samuel Brieden 2018,
  trigonometric_integrals.c), `window_nfw`: the Fourier transform of the truncated NFW profile
  (hmcode_window_nfw; Mead et al. 2015, arXiv:1505.07833, eq. 9), `sheth_tormen` (Sheth & Tormen 1999,
  p = 0.3, q = 0.707, A = 0.21616; hmcode_halomassfunction), `cbnu_ratio` (hmcode_cbnu_ratio:
  Eisenstein & Hu 1997 growth with / without free-streaming neutrinos; Mead et al. 2021, arXiv:2009.01858,
  eq. 23), `rho_crit_msun_mpc3`.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from . import class_splines as cs

# CLASS constants (include/background.h, include/fourier.h)
_G = 6.67428e-11  # _G_ [m^3 / kg / s^2]
_MPC_OVER_M = 3.085677581282e22  # _Mpc_over_m_
_M_SUN = 1.98847e30  # _M_SUN_ [kg]
_ANORM = 1.0 / (2.0 * math.pi**2)
_EULER = 0.577215664901532861  # trigonometric_integrals.c em_const
_MAX_NUM_EXTRAPOLATION = 100000  # fourier.h


def rho_crit_msun_mpc3(h):
    """Critical density today 3 H0^2 / (8 pi G) [M_sun / Mpc^3] as hmcode_compute writes it
    (H0 = 1e5 h [m/s/Mpc])."""
    return 3.0 * (1.0e5 * h) ** 2 / 8.0 / math.pi / _G * _MPC_OVER_M / _M_SUN


# ------------------------------------------------------------------------------------------ k grids
def extended_k(k_nodes, max_k_extra: float = 1e6, k_per_decade: float = 10.0, n_max: int | None = None):
    """CLASS's HMcode wavenumbers (fourier_get_k_list) [1/Mpc]: the perturbation nodes k_nodes (numpy,
    increasing), then k_last 10^(j / k_per_decade_for_pk), j = 1 .. until >= hmcode_max_k_extra.  Returns
    (k (n_max,), n_valid): with n_max, the progression continues past CLASS's last point (padding; it only
    moves the natural spline's far end condition, beyond every integration range)."""
    k_nodes = np.asarray(k_nodes, dtype=float)
    k_last = k_nodes[-1]
    j, k = 0, 0.0
    while k < max_k_extra and j < _MAX_NUM_EXTRAPOLATION:
        j += 1
        k = k_last * 10.0 ** (j / k_per_decade)
    n_valid = len(k_nodes) + j
    n_max = n_valid if n_max is None else n_max
    if n_valid > n_max:
        raise ValueError(f"HMcode extended k grid needs {n_valid} points > n_ext_max = {n_max}")
    ext = k_last * 10.0 ** (np.arange(1, n_max - len(k_nodes) + 1) / k_per_decade)
    return np.concatenate([k_nodes, ext]), n_valid


def extrapolate_lnpk(k_ext, n_nodes, lnpk, n_s, alpha_s, k_pivot):
    """ln P [Mpc^3] on the extended grid k_ext (n_ext,) from ln P on its first n_nodes points (lnpk
    (n_ext,), entries from n_nodes on ignored; n_nodes may be traced): fourier_get_source
    ``extrap_max_scaled`` with P_R(k) = A_s (k/k_pivot)^(n_s - 1 + alpha_s ln(k/k_pivot) / 2) (A_s cancels)."""
    k_ext = jnp.asarray(k_ext)
    lnk = jnp.log(k_ext)
    lnk_max, lnk_prev = lnk[n_nodes - 1], lnk[n_nodes - 2]

    def ln_pr(lk):  # ln P_R without ln A_s
        x = lk - jnp.log(k_pivot)
        return (n_s - 1.0) * x + 0.5 * alpha_s * x * x

    # |S| at the last two nodes (the sign cancels in the extrapolation formula)
    l_max, l_prev = lnpk[n_nodes - 1], lnpk[n_nodes - 2]
    s_max = jnp.exp(0.5 * (l_max + 3.0 * lnk_max - ln_pr(lnk_max)))
    s_prev = jnp.exp(0.5 * (l_prev + 3.0 * lnk_prev - ln_pr(lnk_prev)))
    big_l = (s_prev * lnk_max - s_max * lnk_prev) / (s_max - s_prev)
    s = s_max * ((big_l + lnk) / (big_l + lnk_max))
    ln_ext = 2.0 * jnp.log(jnp.abs(s) / s_max) + ln_pr(lnk) - ln_pr(lnk_max) - 3.0 * (lnk - lnk_max) + l_max
    return jnp.where(jnp.arange(k_ext.shape[0]) < n_nodes, lnpk, ln_ext)


def spline_integral_weights_np(x, mode: str = "est_deriv") -> np.ndarray:
    """Host (numpy/scipy) weights w with sum_i w_i y_i = the integral over [x_0, x_n-1] of CLASS's cubic spline
    through (x_i, y_i), x increasing (the integral is linear in y: the spline of each unit vector; the
    estimated end slopes of array_spline are linear in y too).  Same numbers as
    `class_splines.integral_weights` without a JAX compile per size."""
    from scipy.interpolate import CubicSpline

    x = np.asarray(x, dtype=float)
    eye = np.eye(len(x))
    if mode == "natural":
        s = CubicSpline(x, eye, bc_type="natural", axis=0)
    else:
        d1, d2 = x[1] - x[0], x[2] - x[0]
        dy_first = (d2 * d2 * (eye[1] - eye[0]) - d1 * d1 * (eye[2] - eye[0])) / (d2 * d1 * (x[2] - x[1]))
        e3, e2 = x[-3] - x[-1], x[-2] - x[-1]
        dy_last = (e3 * e3 * (eye[-2] - eye[-1]) - e2 * e2 * (eye[-3] - eye[-1])) / (e3 * e2 * (x[-3] - x[-2]))
        s = CubicSpline(x, eye, bc_type=((1, dy_first), (1, dy_last)), axis=0)
    return s.integrate(x[0], x[-1])


class SigmaGrid(eqx.Module):
    """fourier_sigmas' quadrature for one extended k grid, padded to a static length: points k_i = k_0
    10^(i / k_per_decade), i < n = int(log10(k_ext_last / k_0) k_per_decade) + 1 (then zero weights),
    t_i = 1/(1+k_i), the last point's k shrunk by 0.9999999 (CLASS: "to prevent rounding error"), and the
    spline-integral weights in t (sigma, sigma') and in k (sigma_disp; CLASS's array runs in decreasing k,
    hence the sign)."""

    k: jax.Array  # k used in k^3 and x = k R (last valid point shrunk)
    k_interp: jax.Array  # k where P is interpolated
    t: jax.Array
    w_t: jax.Array
    w_k: jax.Array

    @staticmethod
    def build(k_ext, n_valid_ext: int, k_per_decade: float, n_max: int) -> "SigmaGrid":
        k_ext = np.asarray(k_ext, dtype=float)
        k0, k_end = k_ext[0], k_ext[n_valid_ext - 1]
        n = int(math.log(k_end / k0) / math.log(10.0) * k_per_decade) + 1
        if n > n_max:
            raise ValueError(f"HMcode sigma grid needs {n} points > n_sigma_max = {n_max}")
        k = k0 * 10.0 ** (np.arange(n_max) / k_per_decade)
        t = 1.0 / (1.0 + k)
        kk = k.copy()
        kk[n - 1] *= 0.9999999
        w_t = np.zeros(n_max)
        w_t[:n] = spline_integral_weights_np(t[:n][::-1])[::-1]
        w_k = np.zeros(n_max)
        w_k[:n] = -spline_integral_weights_np(kk[:n])
        return SigmaGrid(k=jnp.asarray(kk), k_interp=jnp.asarray(k), t=jnp.asarray(t), w_t=jnp.asarray(w_t),
                         w_k=jnp.asarray(w_k))


def pk_on_sigma_grid(grid: SigmaGrid, lnk_ext, lnpk_ext, dd_lnpk):
    """P(k_i) on the sigma grid from the spline (lnpk_ext, dd_lnpk) in ln k (array_interpolate_spline);
    P(k_0) = exp(lnpk_ext[0]) exactly (fourier_sigmas)."""
    lnp = cs.evaluate(lnk_ext, lnpk_ext, dd_lnpk, jnp.log(grid.k_interp))
    lnp = lnp.at[0].set(lnpk_ext[0])
    return jnp.exp(lnp)


def _tophat(x):
    """Top-hat window W(x) and dW/dx as fourier_sigmas writes them (series below x = 0.01)."""
    small = x < 0.01
    xs = jnp.where(small, 1.0, x)
    w = jnp.where(small, 1.0 - x * x / 10.0, 3.0 / xs**3 * (jnp.sin(xs) - xs * jnp.cos(xs)))
    wp = jnp.where(small, -0.2 * x, 3.0 / xs**2 * jnp.sin(xs) - 9.0 / xs**4 * (jnp.sin(xs) - xs * jnp.cos(xs)))
    return w, wp


def sigma2(grid: SigmaGrid, pk, r):
    """sigma^2(R) (out_sigma squared): int dk k^2 P W(kR)^2 / (2 pi^2) in CLASS's t-variable spline.
    pk on the grid (n,), r [Mpc] scalar."""
    w, _ = _tophat(grid.k * r)
    y = grid.k**3 * pk * w * w / (grid.t * (1.0 - grid.t))
    return jnp.dot(grid.w_t, jnp.where(grid.w_t != 0.0, y, 0.0)) * _ANORM


def sigma_prime(grid: SigmaGrid, pk, r):
    """out_sigma_prime: d sigma^2 / dR [1/Mpc] = int dk k^2 P 2 k W W' / (2 pi^2)."""
    w, wp = _tophat(grid.k * r)
    y = grid.k**3 * pk * 2.0 * grid.k * w * wp / (grid.t * (1.0 - grid.t))
    return jnp.dot(grid.w_t, jnp.where(grid.w_t != 0.0, y, 0.0)) * _ANORM


def sigma_disp(grid: SigmaGrid, pk, r):
    """out_sigma_disp: sqrt(int dk P W(kR)^2 / (6 pi^2)) [Mpc] (the k integral with k decreasing along
    CLASS's array, hence the sign of the integrand)."""
    w, _ = _tophat(grid.k * r)
    return jnp.sqrt(jnp.dot(grid.w_k, jnp.where(grid.w_k != 0.0, -pk * w * w, 0.0)) * _ANORM / 3.0)


# ------------------------------------------------------------------------------------------ halo model
def _f_aux(y):
    """Auxiliary rational functions f(x) / x-scaled and g(x) of the large-x expansions (x > 4)."""
    f = (1.0 + y * (7.44437068161936700618e2 + y * (1.96396372895146869801e5 + y * (2.37750310125431834034e7
         + y * (1.43073403821274636888e9 + y * (4.33736238870432522765e10 + y * (6.40533830574022022911e11
         + y * (4.20968180571076940208e12 + y * (1.00795182980368574617e13 + y * (4.94816688199951963482e12
         + y * (-4.94701168645415959931e11))))))))))) \
        / (1.0 + y * (7.46437068161927678031e2 + y * (1.97865247031583951450e5 + y * (2.41535670165126845144e7
           + y * (1.47478952192985464958e9 + y * (4.58595115847765779830e10 + y * (7.08501308149515401563e11
           + y * (5.06084464593475076774e12 + y * (1.43468549171581016479e13
           + y * (1.11535493509914254097e13))))))))))
    g = y * (1.0 + y * (8.1359520115168615e2 + y * (2.35239181626478200e5 + y * (3.12557570795778731e7
             + y * (2.06297595146763354e9 + y * (6.83052205423625007e10 + y * (1.09049528450362786e12
             + y * (7.57664583257834349e12 + y * (1.81004487464664575e13 + y * (6.43291613143049485e12
             + y * (-1.36517137670871689e12))))))))))) \
        / (1.0 + y * (8.19595201151451564e2 + y * (2.40036752835578777e5 + y * (3.26026661647090822e7
           + y * (2.23355543278099360e9 + y * (7.87465017341829930e10 + y * (1.39866710696414565e12
           + y * (1.17164723371736605e13 + y * (4.01839087307656620e13 + y * (3.99653257887490811e13))))))))))
    return f, g


def sine_integral(x):
    """Si(x) (CLASS sine_integral: Pade approximant for |x| <= 4, auxiliary functions above)."""
    small = jnp.abs(x) <= 4.0
    xs = jnp.where(small, x, 1.0)
    x2 = xs * xs
    si_small = xs * (1.0 + x2 * (-4.54393409816329991e-2 + x2 * (1.15457225751016682e-3 + x2 * (
        -1.41018536821330254e-5 + x2 * (9.43280809438713025e-8 + x2 * (-3.53201978997168357e-10 + x2 * (
            7.08240282274875911e-13 + x2 * (-6.05338212010422477e-16)))))))) / (1.0 + x2 * (
        1.01162145739225565e-2 + x2 * (4.99175116169755106e-5 + x2 * (1.55654986308745614e-7 + x2 * (
            3.28067571055789734e-10 + x2 * (4.5049097575386581e-13 + x2 * (3.21107051193712168e-16)))))))
    xl = jnp.where(small, 5.0, x)
    f, g = _f_aux(1.0 / (xl * xl))
    si_large = 3.1415926535897932384626433 / 2.0 - f / xl * jnp.cos(xl) - g * jnp.sin(xl)
    return jnp.where(small, si_small, si_large)


def cosine_integral(x):
    """Ci(x), x > 0 (CLASS cosine_integral)."""
    small = jnp.abs(x) <= 4.0
    xs = jnp.where(small, x, 1.0)
    x2 = xs * xs
    ci_small = _EULER + jnp.log(xs) + x2 * (-0.25 + x2 * (7.51851524438898291e-3 + x2 * (
        -1.27528342240267686e-4 + x2 * (1.05297363846239184e-6 + x2 * (-4.68889508144848019e-9 + x2 * (
            1.06480802891189243e-11 + x2 * (-9.93728488857585407e-15))))))) / (1.0 + x2 * (
        1.1592605689110735e-2 + x2 * (6.72126800814254432e-5 + x2 * (2.55533277086129636e-7 + x2 * (
            6.97071295760958946e-10 + x2 * (1.38536352772778619e-12 + x2 * (1.89106054713059759e-15 + x2 * (
                1.39759616731376855e-18))))))))
    xl = jnp.where(small, 5.0, x)
    f, g = _f_aux(1.0 / (xl * xl))
    ci_large = f / xl * jnp.sin(xl) - g * jnp.cos(xl)
    return jnp.where(small, ci_small, ci_large)


def window_nfw(k, rv, c):
    """Normalised Fourier transform of an NFW halo truncated at the virial radius rv [Mpc] with
    concentration c = rv / rs, at wavenumber k [1/Mpc] (hmcode_window_nfw; Mead et al. 2015 eq. 9)."""
    ks = k * rv / c
    si2, si1 = sine_integral(ks * (1.0 + c)), sine_integral(ks)
    ci2, ci1 = cosine_integral(ks * (1.0 + c)), cosine_integral(ks)
    p1 = jnp.cos(ks) * (ci2 - ci1)
    p2 = jnp.sin(ks) * (si2 - si1)
    p3 = jnp.sin(ks * c) / (ks * (1.0 + c))
    return (p1 + p2 - p3) / (jnp.log(1.0 + c) - c / (1.0 + c))


def sheth_tormen(nu):
    """Sheth & Tormen (1999) multiplicity function f(nu) with p = 0.3, q = 0.707, A = 0.21616
    (hmcode_halomassfunction)."""
    p, q, a = 0.3, 0.707, 0.21616
    return a * (1.0 + (q * nu * nu) ** (-p)) * jnp.exp(-q * nu * nu / 2.0)


def cbnu_ratio(k, z, fnu, om_m, t_cmb, growth):
    """Approximate ratio of the CDM+baryon to the total-matter growth (hmcode_cbnu_ratio; Eisenstein & Hu
    1997, Mead et al. 2021 eq. 23): k [1/Mpc], om_m = Omega0_m h^2, growth = the unnormalised HMcode
    growth g(a) (EdS: a).  One neutrino species (Nnu = 1) as CLASS."""
    pcb = (5.0 - jnp.sqrt(1.0 + 24.0 * (1.0 - fnu))) / 4.0
    big_t = t_cmb / 2.7
    zeq = 2.5e4 * om_m * big_t**-4.0
    d = (1.0 + zeq) * growth
    q = k * big_t * big_t / om_m
    yfs = 17.2 * fnu * (1.0 + 0.488 * fnu ** (-7.0 / 6.0)) * (q / fnu) ** 2
    dcb = (1.0 + (d / (1.0 + yfs)) ** 0.7) ** (pcb / 0.7)
    dcbnu = ((1.0 - fnu) ** (0.7 / pcb) + (d / (1.0 + yfs)) ** 0.7) ** (pcb / 0.7)
    return dcb / dcbnu
