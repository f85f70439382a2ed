"""Hyperspherical Bessel functions Phi^l_nu(chi) for the curved-space line of sight, as CLASS tabulates them.

In a universe of spatial curvature K (sgnK = K/|K| = -1 open, +1 closed), the radial part of the scalar
harmonics of the Laplacian obeys (Abbott & Schaefer 1986, ApJ 308, 546; Kosowsky 1998, astro-ph/9805173;
Lesgourgues & Tram 2014, arXiv:1312.2697 eq. 2.4; CLASS ``hyperspherical.c``, the d2Phi line of
``hyperspherical_Hermite_interpolation_vector``):

    Phi'' + 2 cot_K(chi) Phi' + [nu^2 - K - l(l+1)/sin_K^2(chi)] Phi = 0,

with sgnK = K here (|K| = 1 units), sin_K = sinh / sin, cot_K = coth / cot, nu = q/sqrt|K|, chi = sqrt|K|
(tau0 - tau), q^2 = k^2 + K (1 + m) for the mode with spin m (CLASS ``transfer.c``). Closed models have a discrete
spectrum: nu integer >= 3 and only l < nu (Phi^l_nu = 0 for l >= nu).

Normalisation (CLASS, Lesgourgues & Tram 2014 eqs. 2.8-2.9; Kosowsky 1998 eq. 8):

    Phi^0_nu = sin(nu chi) / (nu sin_K chi),
    Phi^1_nu = Phi^0_nu (cot_K chi - nu cot(nu chi)) / sqrt(nu^2 - K),
    sqrt(nu^2 - K (l+1)^2) Phi^{l+1} = (2l+1) cot_K Phi^l - sqrt(nu^2 - K l^2) Phi^{l-1},
    dPhi^l/dchi = l cot_K Phi^l - sqrt(nu^2 - K (l+1)^2) Phi^{l+1},

equivalently Phi^l_nu = [prod_{n=1}^{l} (nu^2 - K n^2)]^{-1/2} nu^{-2} sin_K^l chi (-1/sin_K chi d/dchi)^{l+1}
cos(nu chi). Its flat limit (nu -> infinity at fixed nu chi) is j_l(nu chi), and for K = 0 it is j_l(nu chi) exactly.

Table (CLASS ``hyperspherical_HIS_create`` called from ``transfer_update_HIS`` with l_WKB = l_last + 1, i.e. always
by recurrence in l, never WKB): uniform chi_j = x_min + j dx, n_x = int((x_max - x_min) sampling nu / 2 pi),
dx = (x_max - x_min)/(n_x - 1); sampling = ``hyper_sampling_curved_low_nu`` (7) for nu <= ``hyper_nu_sampling_step``
(1000), ``hyper_sampling_curved_high_nu`` (3) above. x_max = sqrt|K| tau0, and for K = +1 at most pi/2 - x_min
(the functions on [0, 2 pi] follow from the symmetries of ``ClosedModY``). Values:

- chi < chi_fwd (turning point of the largest l: sin_K chi_fwd = sqrt(l(l+1))/nu): backward recurrence from the top
  l, started with the continued fraction for Phi'/Phi (``get_CF1``, modified Lentz), or for K = +1 and nu <= 1.5 l
  from the Gegenbauer polynomial (``CF1_from_Gegenbauer``: Phi^l_nu propto sin^l chi C^{(l+1)}_{nu-l-1}(cos chi)),
  rescaled against overflow and normalised to the exact Phi^0;
- chi >= chi_fwd: forward recurrence from Phi^0, Phi^1 (stable above every turning point).

Interpolation (``transfer.c`` uses HERMITE6 for curved tables): quintic Hermite from (Phi, Phi', Phi'') at both
nodes, Phi'' (and Phi''', Phi'''' for the derivatives) from the radial equation; for K = +1 the argument is first
folded into [0, pi/2] (``ClosedModY``: Phi(2 pi - chi) = (-1)^l Phi(chi), Phi(pi - chi) = (-1)^(nu-l-1) Phi(chi)).
Outside the table the functions are 0 (CLASS).

``x_min_phi``: CLASS ``hyperspherical_get_xmin_from_approx``: chi below which |Phi^l_nu| < hyper_phi_min_abs, from
the flat Debye estimate corrected for curvature (the open-case factors are CLASS's own, same file).
"""

from __future__ import annotations

import functools
import math

import jax.numpy as jnp
import numpy as np

_HYPER_OVERFLOW = 1e200  # CLASS hyperspherical.h _HYPER_OVERFLOW_: rescale recurrences above this
_EPS = np.finfo(float).eps  # CLASS get_CF1 reltol = DBL_EPSILON


def sin_cot_k(sgn_k: int, x):
    """sin_K(x), cot_K(x) for sgnK = -1 (sinh, coth), 0 (x, 1/x), +1 (sin, cot). numpy."""
    x = np.asarray(x, dtype=float)
    if sgn_k == -1:
        return np.sinh(x), 1.0 / np.tanh(x)
    if sgn_k == 1:
        return np.sin(x), 1.0 / np.tan(x)
    return x, 1.0 / x


def _sqrt_k(sgn_k: int, nu: float, l_top: int):
    """sqrt(nu^2 - K l^2) for l = 0 .. l_top + 2 (CLASS ``sqrtK``); clipped at 0 where K = +1 and l >= nu."""
    ll = np.arange(l_top + 3, dtype=float)
    return np.sqrt(np.maximum(nu * nu - sgn_k * ll * ll, 0.0))


def _cf1(sgn_k: int, l: int, nu: float, cot_k, maxiter: int = 1_000_000):
    """Phi'^l/Phi^l from the continued fraction of the recurrence (CLASS ``get_CF1``, modified Lentz), vectorised
    over cot_K. Returns (cf, converged)."""
    tiny = 1e-100
    nu2 = nu * nu
    bj = l * cot_k
    f = bj.copy()
    c = bj.copy()
    d = np.zeros_like(bj)
    done = np.zeros(bj.shape, dtype=bool)
    if sgn_k == 1:
        maxiter = int(nu - l - 10)
    for j in range(1, maxiter + 1):
        sq = math.sqrt(nu2 - sgn_k * (l + j + 1) ** 2)
        aj = -math.sqrt(nu2 - sgn_k * (l + j) ** 2) / sq
        if j == 1:
            aj *= math.sqrt(nu2 - sgn_k * (l + 1) ** 2)
        bj = (2 * (l + j) + 1) / sq * cot_k
        d = bj + aj * d
        d = np.where(d == 0.0, tiny, d)
        c = bj + aj / c
        c = np.where(c == 0.0, tiny, c)
        d = 1.0 / d
        delta = c * d
        f = np.where(done, f, f * delta)
        done |= np.abs(delta - 1.0) < _EPS
        if done.all():
            break
    return f, done


def _cf1_gegenbauer(l: int, nu_int: int, sin_k, cot_k):
    """Phi'^l/Phi^l for K = +1 from Phi^l_nu propto sin^l x C^{(l+1)}_{n}(cos x), n = nu - l - 1 (CLASS
    ``CF1_from_Gegenbauer``; Gegenbauer recurrence, Abramowitz & Stegun 22.7.3, derivative 22.8.2)."""
    n = nu_int - l - 1
    alpha = l + 1.0
    x = sin_k * cot_k  # cos chi
    g_km2 = np.ones_like(x)
    g_km1 = 2 * alpha * x
    if n == 0:
        return l * cot_k
    for k in range(2, n + 1):
        g = (2 * (k + alpha - 1) * x * g_km1 - (k + 2 * alpha - 2) * g_km2) / k
        big = np.abs(g) > _HYPER_OVERFLOW
        g_km2 = np.where(big, g_km1 / _HYPER_OVERFLOW, g_km1)
        g_km1 = np.where(big, g / _HYPER_OVERFLOW, g)
    # g_km1 = C_n, g_km2 = C_{n-1} (same scale); (1-x^2) C_n' = -n x C_n + (n + 2 alpha - 1) C_{n-1}
    dg = (-n * x * g_km1 + (n + 2 * alpha - 1) * g_km2) / (1.0 - x * x)
    return l * cot_k - sin_k * dg / g_km1


def phi_dphi(sgn_k: int, nu: float, ls, x):
    """Phi^l_nu(x), dPhi^l_nu/dx for the sorted ints ``ls`` at the points x (numpy, float64), by CLASS's
    recurrences (module docstring). For K = +1, nu must be an integer > max(ls) and x in (0, pi/2]; for K = -1 any
    nu > 0, x > 0. Returns two (len(ls), len(x)) arrays."""
    ls = np.asarray(ls, dtype=int)
    x = np.atleast_1d(np.asarray(x, dtype=float))
    l_max = int(ls[-1])
    l_top = l_max + 1  # Phi^{l+1} is needed for dPhi^l
    sqk = _sqrt_k(sgn_k, nu, l_top)
    sin_k, cot_k = sin_cot_k(sgn_k, x)
    arg = math.sqrt(l_max * (l_max + 1.0)) / nu
    x_fwd = (math.asinh(arg) if sgn_k == -1 else math.asin(min(arg, 1.0)) if sgn_k == 1 else arg)
    want = np.zeros(l_top + 1, dtype=bool)
    want[ls] = True
    want[ls + 1] = True
    rows = np.flatnonzero(want)
    row_of = {int(l): i for i, l in enumerate(rows)}
    out = np.zeros((len(rows), x.size))
    phi0 = np.sin(nu * x) / (nu * sin_k)

    fwd = x >= x_fwd
    if fwd.any():
        xf, cf_, p0 = x[fwd], cot_k[fwd], phi0[fwd]
        p_prev = p0
        p = p0 * (cf_ - nu / np.tan(nu * xf)) / sqk[1]
        cols = np.flatnonzero(fwd)
        if 0 in row_of:
            out[row_of[0], cols] = p_prev
        if 1 in row_of:
            out[row_of[1], cols] = p
        for l in range(2, l_top + 1):
            if sqk[l] == 0.0:  # K = +1, l >= nu: Phi^l_nu = 0
                p_prev, p = p, np.zeros_like(p)
            else:
                p_prev, p = p, ((2 * l - 1) * cf_ * p - p_prev * sqk[l - 1]) / sqk[l]
            if l in row_of:
                out[row_of[l], cols] = p

    back = ~fwd
    if back.any():
        cols = np.flatnonzero(back)
        sk, ck = sin_k[back], cot_k[back]
        # start at l_start = the highest l with Phi != 0 (K = +1: l_start <= nu - 1)
        l_start = l_top if not (sgn_k == 1 and sqk[l_top] == 0.0) else l_top - 1
        if sgn_k == 1:
            ok = np.zeros(sk.shape, dtype=bool)
            cf = np.zeros_like(sk)
            if nu > 1.5 * l_start:
                cf, ok = _cf1(sgn_k, l_start, nu, ck)
            if not ok.all():
                cf = np.where(ok, cf, _cf1_gegenbauer(l_start, int(nu + 0.2), sk, ck))
        else:
            cf, _ = _cf1(sgn_k, l_start, nu, ck)
        store = np.zeros((len(rows), cols.size))
        p_up = np.ones_like(sk)  # Phi^{l_start} = 1 (arbitrary scale)
        p = ((l_start + 1) * ck * p_up + cf * p_up) / sqk[l_start]  # Phi^{l_start - 1}
        if l_start in row_of:
            store[row_of[l_start]] = p_up
        if l_start - 1 in row_of:
            store[row_of[l_start - 1]] = p
        for l in range(l_start - 2, -1, -1):
            p_up, p = p, ((2 * l + 3) * ck * p - sqk[l + 2] * p_up) / sqk[l + 1]
            big = np.abs(p) > _HYPER_OVERFLOW
            if big.any():
                scale = np.where(big, 1.0 / np.abs(np.where(big, p, 1.0)), 1.0)
                p, p_up, store = p * scale, p_up * scale, store * scale
            if l in row_of:
                store[row_of[l]] = p
        store *= (phi0[back] / p)  # normalise to the exact Phi^0 (p is Phi^0 on the recurrence's scale)
        out[:, cols] = store

    idx = np.array([row_of[int(l)] for l in ls])
    idx1 = np.array([row_of[int(l) + 1] for l in ls])
    phi = out[idx]
    dphi = ls[:, None] * cot_k[None, :] * phi - sqk[ls + 1][:, None] * out[idx1]
    return phi, dphi


def x_min_phi(sgn_k: int, nu: float, l, phi_min_abs: float = 1e-10):
    """CLASS ``hyperspherical_get_xmin_from_approx``: chi below which |Phi^l_nu| < phi_min_abs (numpy, l >= 1).
    The flat Debye estimate x = (l + 1/2)/(nu cosh alpha), times asin(l/nu)/(l/nu) (K = +1), or
    asinh(l/nu)/(l/nu) ((nu + 0.4567)/(nu + 1.24) - 2.209e-3) (K = -1; CLASS's own small-nu correction)."""
    lf = np.asarray(l, dtype=float)
    lph = lf + 0.5
    lhs = np.log(2.0 * phi_min_abs * lph) / lph
    alpha = -2.0 * lhs / 5.0 * (1.0 + 2.0 * np.cosh(np.arccosh(1.0 + 375.0 / (16.0 * lhs * lhs)) / 3.0))
    x = lph / np.cosh(alpha) / nu
    r = lf / nu
    if sgn_k == -1:
        x = x * np.arcsinh(r) / r * ((nu + 0.4567) / (nu + 1.24) - 2.209e-3)
    elif sgn_k == 1:
        x = x * np.arcsin(np.minimum(r, 1.0)) / r
    return x


def curved_sampling(nu: float, low_nu: float = 7.0, high_nu: float = 3.0, nu_step: float = 1000.0) -> float:
    """CLASS ``transfer_update_HIS``: table points per period 2 pi/nu (hyper_sampling_curved_low/high_nu)."""
    return high_nu if nu > nu_step else low_nu


class HyperTable:
    """Host-built table of Phi^l_nu, dPhi^l_nu/dchi on CLASS's uniform chi grid for one nu, a static l tuple.

    Fields as `boltzax.bessel.BesselTable`: ``ls``, ``x_min``, ``dx``, ``n_x``, ``x_max``, ``phi``, ``dphi``
    (n_l, n_x), ``x_cut`` (n_l,) = x_min_phi; plus ``sgn_k``, ``nu``. For K = +1 the l > nu - 1 are dropped
    (CLASS ``transfer_update_HIS``) and x_max is capped at pi/2 - x_min; ``arrays()`` gives the JAX pytree."""

    def __init__(self, sgn_k: int, nu: float, ls, x_max: float, sampling: float | None = None,
                 x_min: float = 1e-5, phi_min_abs: float = 1e-10):
        if sgn_k not in (-1, 1):
            from .errors import CosmoSevereError

            raise CosmoSevereError(f"HyperTable: sgn_k must be -1 or +1, got {sgn_k}")
        if sgn_k == 1:
            nu_int = int(nu + 0.2)
            if abs(nu - nu_int) > 1e-6 or nu_int < 3:
                from .errors import CosmoSevereError

                raise CosmoSevereError(f"HyperTable: closed space needs integer nu >= 3, got nu={nu}")
            nu = float(nu_int)
            ls = tuple(l for l in ls if l < nu)
            x_max = min(x_max, math.pi / 2 - x_min)
        self.sgn_k, self.nu = int(sgn_k), float(nu)
        self.ls = tuple(int(v) for v in ls)
        if sampling is None:
            sampling = curved_sampling(nu)
        n_x = max(int((x_max - x_min) * sampling * nu / (2.0 * math.pi)), 2)
        self.n_x, self.x_min, self.x_max = n_x, float(x_min), float(x_max)
        self.dx = (x_max - x_min) / (n_x - 1.0)
        x = x_min + self.dx * np.arange(n_x)
        self.phi, self.dphi = phi_dphi(sgn_k, nu, self.ls, x)
        self.x_cut = x_min_phi(sgn_k, nu, np.asarray(self.ls), phi_min_abs)

    def arrays(self) -> dict:
        """jnp pytree: ``phi``, ``dphi`` (n_l, n_x), ``ls`` (float), ``x_cut``."""
        if getattr(self, "_arrays", None) is None:
            self._arrays = dict(phi=jnp.asarray(self.phi), dphi=jnp.asarray(self.dphi),
                                ls=jnp.asarray(np.asarray(self.ls, dtype=float)), x_cut=jnp.asarray(self.x_cut))
        return self._arrays


@functools.lru_cache(maxsize=64)
def hyper_table(sgn_k: int, nu: float, ls: tuple[int, ...], x_max: float, sampling: float | None = None,
                x_min: float = 1e-5) -> HyperTable:
    """Cached `HyperTable` (in memory) for a static (K, nu, l list, x_max, sampling)."""
    return HyperTable(sgn_k, nu, ls, x_max, sampling, x_min)


def _node_derivatives(y, dy, ll1, sgn_k, nu2, sin_k, cot_k):
    """Phi'', Phi''', Phi'''' at nodes from the radial equation (CLASS hyperspherical_Hermite_interpolation_vector)."""
    s2 = sin_k * sin_k
    d2 = -2.0 * dy * cot_k + y * (ll1 / s2 - nu2 + sgn_k)
    d3 = -2.0 * cot_k * d2 - 2.0 * y * ll1 * cot_k / s2 + dy * (sgn_k - nu2 + (2.0 + ll1) / s2)
    d4 = (-2.0 * cot_k * d3 + d2 * (sgn_k - nu2 + (4.0 + ll1) / s2) + dy * (-4.0 * (1.0 + ll1) * cot_k / s2)
          + y * (2.0 * ll1 / s2 * (2.0 * cot_k * cot_k + 1.0 / s2)))
    return d2, d3, d4


def _xp_sin_cot(sgn_k, x, xp):
    if sgn_k == -1:
        return xp.sinh(x), 1.0 / xp.tanh(x)
    return xp.sin(x), 1.0 / xp.tan(x)


def closed_fold(x, l, nu, xp=jnp):
    """CLASS ``ClosedModY`` (K = +1): fold chi into [0, pi/2]; returns (y, sign of Phi, sign of dPhi/dchi).
    Phi(2 pi - chi) = (-1)^l Phi(chi), Phi(pi - chi) = (-1)^(nu - l - 1) Phi(chi) (Gegenbauer parity)."""
    two_pi = 2.0 * math.pi
    y = xp.mod(x, two_pi)
    s_phi = xp.ones_like(y)
    s_dphi = xp.ones_like(y)
    flip1 = y > math.pi
    y = xp.where(flip1, two_pi - y, y)
    l_odd = xp.mod(l, 2.0) == 1.0
    s_phi = xp.where(flip1 & l_odd, -s_phi, s_phi)
    s_dphi = xp.where(flip1 & ~l_odd, -s_dphi, s_dphi)
    flip2 = y > 0.5 * math.pi
    y = xp.where(flip2, math.pi - y, y)
    even = xp.mod(nu - l, 2.0) == 0.0
    s_phi = xp.where(flip2 & even, -s_phi, s_phi)
    s_dphi = xp.where(flip2 & ~even, -s_dphi, s_dphi)
    return y, s_phi, s_dphi


def hermite6_phi(phi_l, dphi_l, l, x, sgn_k: int, nu, x_min: float, dx: float, derivatives: int = 2, xp=jnp):
    """Phi^l_nu, dPhi, d2Phi at chi = x (any shape) from one l's table rows, CLASS's quintic Hermite rule
    (``hyperspherical_Hermite6_interpolation_vector``), traceable in JAX (``xp=numpy`` for host use).
    phi_l, dphi_l: (n_x,); l, nu: scalars; x_min, dx: static grid. Zero outside the table (after the K = +1
    fold)."""
    n_x = phi_l.shape[0]
    if sgn_k == 1:
        x, s_phi, s_dphi = closed_fold(x, l, nu, xp)
    else:
        s_phi = s_dphi = 1.0
    t = (x - x_min) / dx
    inside = (x >= x_min) & (t <= n_x - 1)
    i = xp.clip(xp.floor(t).astype(xp.int32), 0, n_x - 2)
    z = t - i
    xm = x_min + dx * i
    xp_ = xm + dx
    ll1 = l * (l + 1.0)
    nu2 = nu * nu
    sm, cm = _xp_sin_cot(sgn_k, xm, xp)
    sp, cp = _xp_sin_cot(sgn_k, xp_, xp)
    ym, yp, dym, dyp = phi_l[i], phi_l[i + 1], dphi_l[i], dphi_l[i + 1]
    d2m, d3m, d4m = _node_derivatives(ym, dym, ll1, sgn_k, nu2, sm, cm)
    d2p, d3p, d4p = _node_derivatives(yp, dyp, ll1, sgn_k, nu2, sp, cp)
    dx2 = dx * dx
    z2 = z * z
    z3 = z2 * z
    z4 = z2 * z2
    z5 = z3 * z2

    def quintic(f0, f1, g0, g1, h0, h1):
        a1 = g0 * dx
        a2 = 0.5 * h0 * dx2
        a3 = (-1.5 * h0 + 0.5 * h1) * dx2 - (6 * g0 + 4 * g1) * dx - 10 * (f0 - f1)
        a4 = (1.5 * h0 - h1) * dx2 + (8 * g0 + 7 * g1) * dx + 15 * (f0 - f1)
        a5 = (-0.5 * h0 + 0.5 * h1) * dx2 - 3 * (g0 + g1) * dx - 6 * (f0 - f1)
        return f0 + a1 * z + a2 * z2 + a3 * z3 + a4 * z4 + a5 * z5

    out = [s_phi * quintic(ym, yp, dym, dyp, d2m, d2p)]
    if derivatives >= 1:
        out.append(s_dphi * quintic(dym, dyp, d2m, d2p, d3m, d3p))
    if derivatives >= 2:
        out.append(s_phi * quintic(d2m, d2p, d3m, d3p, d4m, d4p))
    return tuple(xp.where(inside, o, 0.0) for o in out)
