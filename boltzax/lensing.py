"""Lensed CMB spectra from the unlensed ones: CLASS v3.4.1 ``lensing.c`` (``lensing_init``) in JAX.

The full-sky correlation-function method of Challinor & Lewis 2005 (astro-ph/0502425, "CL05"), with the
higher orders of Lewis & Challinor 2006 (astro-ph/0601594, "LC06"), as CLASS implements it:

1. Deflection correlation (CL05 eq. 35) on a grid of mu = cos(beta):
   C_gl(mu) = sum_l (2l+1)/(4 pi) l(l+1) C_l^{phi phi} d^l_11(mu),
   C_gl,2(mu) = sum_l (2l+1)/(4 pi) l(l+1) C_l^{phi phi} d^l_{1,-1}(mu),
   sigma^2(mu) = C_gl(1) - C_gl(mu) (the last grid point is mu = 1).
2. Lensed correlation functions (CL05 eqs. 38, 54-56 to second order in C_gl,2; LC06 eqs. 9.12,
   9.16-9.18 for the third and fourth orders; CL05 appendix C for the first order in C_gl,0):
   xi(mu) = sum_l (2l+1)/(4 pi) C_l^TT [X_000^2 d^l_00 + 8/(l(l+1)) C_gl,2 X'_000^2 d^l_{1,-1}
   + C_gl,2^2 (X'_000^2 d^l_00 + X_220^2 d^l_{2,-2}) + ...], and likewise xi_X (TE, d^l_20 ...), xi_+ and
   xi_- (EE +- BB, d^l_22, d^l_{2,-2} ...). X_000 = exp(-l(l+1) sigma^2 / 4) is kept exact; the other
   exponentials exp(-(l(l+1)/4 - c) sigma^2) are CLASS's X_000 (1 + c sigma^2 ...) (lensing.c comments).
3. Back to harmonic space: C_l^TT = 2 pi sum_mu w(mu) xi(mu) d^l_00(mu), C_l^TE with d^l_20,
   C_l^EE,BB = pi sum_mu w (xi_+ d^l_22 +- xi_- d^l_{2,-2}).

Quadrature (``LensingPrecision``): CLASS's default "fast" method integrates the lensed *minus* unlensed
correlation functions by a Riemann sum in beta over (0, pi/16] (num_mu = 2 l_unlensed_max // 16) and adds
the unlensed C_l back; the "accurate" method uses Gauss-Legendre on [-1, 1] with num_mu ~ l_unlensed_max.
The unlensed C_l are needed to l_unlensed_max = l_max + delta_l_max (CLASS 3.4.1: int(0.33 l_max), 825
at l_max = 2500; accurate: int(0.5 l_max)).

Margin (tools/lensing_margin_study.py, fid, l_max = 2500, against the accurate method with C_l to 5500):
CLASS's default (fast, 825) is within TT 2e-4, EE 2.5e-4, TE 1.1e-4 (of sqrt(TT EE)), BB 1.2e-2 at
l <= 2000 and TT 1.1e-3, EE 4e-4, BB 4.6e-2 for 2000 < l <= 2500; delta 500 is 4x worse at the top.
At l <= 2000 the error is mostly the cut of C_l^phiphi (the deflection variance sigma^2 converges
slowly in L), not of the CMB C_l: ``pp_extra_l`` (not in CLASS) keeps C_l^phiphi further at little cost
(accurate, delta 1250, C_pp to 5500: TT 7e-6, BB 4e-4 at l <= 2000). The fast method's BB is off by
6e-3 at l = 2 whatever the margin (its beta <= pi/16 cut); 3e-4 for l >= 50.

CLASS returns lensed C_l computed only at its multipole nodes (``transfer_get_l_list``) and splined
(``lensing_cl_at_l``); pass those nodes as ``l_nodes`` to reproduce CLASS, or leave ``l_nodes=None`` to get
the lensed C_l at every l (no interpolation). C_l^{phi phi}, C_l^{T phi}, C_l^{E phi} are passed through
unlensed (re-splined on the nodes, as CLASS does).

Implementation: three ``lax.scan``s over l with the Wigner d recurrences (``wigner_d``) in the carry and
the sums over l accumulated in the carry (memory O(n_mu), no (l, mu) tables): C_gl and C_gl,2; the four
correlation functions; the back transform. Differentiable (forward and reverse mode) in all C_l.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from .errors import CosmoSevereError
from .l_sampling import class_spline_matrix, lensed_l_nodes
from .precision import LensingPrecision
from .wigner_d import scan_wigner_d

LENSED_KEYS = ("tt", "ee", "te", "bb")
PASS_THROUGH_KEYS = ("pp", "tp", "ep")


def delta_l_max(l_max: int, precision: LensingPrecision = LensingPrecision()) -> int:
    """The margin in l of the unlensed input (CLASS ``input.c``: int(0.33 l_max) in fast mode, int(0.5
    l_max) in accurate mode, unless delta_l_max >= 0 is given)."""
    if precision.delta_l_max >= 0:
        return int(precision.delta_l_max)
    return int((0.5 if precision.accurate else 0.33) * l_max)


@functools.lru_cache(maxsize=4)
def _gauss_legendre_cached(n: int, tol: float) -> tuple[np.ndarray, np.ndarray]:
    m = (n + 1) // 2
    i = np.arange(1, m + 1, dtype=np.float64)
    z = np.cos(math.pi * (i - 0.25) / (n + 0.5))
    z_done = np.zeros(m)
    w_done = np.zeros(m)
    todo = np.ones(m, dtype=bool)
    for _ in range(100):
        zt = z[todo]
        p1, p2 = np.ones_like(zt), np.zeros_like(zt)
        for j in range(1, n + 1):
            p3, p2 = p2, p1
            p1 = ((2.0 * j - 1.0) * zt * p2 - (j - 1.0) * p3) / j
        pp = n * (zt * p1 - p2) / (zt * zt - 1.0)
        z_new = zt - p1 / pp
        conv = np.abs(z_new - zt) <= tol
        idx = np.nonzero(todo)[0]
        z_done[idx[conv]] = z_new[conv]
        w_done[idx[conv]] = 2.0 / ((1.0 - zt[conv] * zt[conv]) * pp[conv] * pp[conv])
        z[idx] = z_new
        todo[idx[conv]] = False
        if not todo.any():
            break
    else:
        raise RuntimeError(f"Gauss-Legendre nodes (n = {n}) did not converge")
    mu, w = np.empty(n), np.empty(n)
    mu[:m], mu[n - m:] = -z_done, z_done[::-1]
    w[:m], w[n - m:] = w_done, w_done[::-1]
    return mu, w


def gauss_legendre(n: int, tol: float = float(np.finfo(np.float64).eps)) -> tuple[np.ndarray, np.ndarray]:
    """Nodes (ascending) and weights of the n-point Gauss-Legendre rule on [-1, 1] by CLASS's
    ``quadrature_gauss_legendre`` (Numerical Recipes gauleg: Newton on P_n from cos(pi (i - 1/4) / (n +
    1/2)) until the step is <= tol, w = 2 / ((1 - z^2) P_n'(z)^2) with P_n' at the last-but-one iterate).
    Not numpy's leggauss: its weights next to mu = +-1 are off by ~1e-7 at n ~ 4000 (measured against
    mpmath; these are 1e-11), which moves the accurate-mode C_2500 by 5e-5: the back transform of the full
    correlation function cancels ~1e8 between its terms."""
    mu, w = _gauss_legendre_cached(int(n), float(tol))
    return mu.copy(), w.copy()


def quadrature(l_unlensed_max: int, precision: LensingPrecision = LensingPrecision()):
    """(mu (num_mu,), w (num_mu - 1,)): CLASS's angular grid, the last point mu = 1 (for sigma^2, no
    weight). Fast: beta_i = i pi / (16 (num_mu - 1)), i = 1 .. num_mu - 1, w = sin(beta) d beta; accurate:
    Gauss-Legendre nodes and weights on num_mu - 1 points (numpy's, exact to round-off like CLASS's)."""
    if precision.accurate:
        num_mu = l_unlensed_max + precision.num_mu_minus_lmax
        num_mu += num_mu % 2
        x, w = gauss_legendre(num_mu - 1)
        return np.concatenate([x, [1.0]]), w
    num_mu = (l_unlensed_max * 2) // precision.non_accurate_boundary
    dtheta = math.pi / precision.non_accurate_boundary / float(num_mu - 1)
    theta = np.arange(1, num_mu) * dtheta
    return np.concatenate([np.cos(theta), [1.0]]), np.sin(theta) * dtheta


def _d_pairs(precision: LensingPrecision) -> tuple:
    """The d^l_{m1 m2} that lensing_init computes for TT, TE, EE, BB at the requested orders."""
    pairs = ((0, 0), (1, 1), (1, -1), (2, -2), (2, 0), (3, -1), (4, -2), (2, 2), (3, 1), (3, -3), (4, 0), (4, -4))
    if precision.c2_order > 2 or precision.c0_order > 0:
        pairs += ((5, -1), (5, -3), (6, -2), (3, 3))
    return pairs


def _l_factors(l_max: int) -> dict[str, np.ndarray]:
    """Per-l factors of lensing_init (CLASS's expressions), zero for l < 2 (l = 0, 1 do not enter)."""
    ll = np.arange(l_max + 1, dtype=np.float64)
    ok = ll >= 2
    with np.errstate(divide="ignore", invalid="ignore"):
        f = {
            "fac": ll * (ll + 1) / 4.0,
            "fac1": (2 * ll + 1) / (4.0 * math.pi),
            "fac2": 1 / (ll * (ll + 1)),
            "sqrt1": np.sqrt((ll + 2) * (ll + 1) * ll * (ll - 1)),
            "sqrt2": np.sqrt((ll + 2) * (ll - 1)),
            "sqrt3": np.sqrt((ll + 3) * (ll - 2)),
            "sqrt4": np.sqrt((ll + 4) * (ll + 3) * (ll - 2.0) * (ll - 3)),
            "sqrt5": 1.0 / np.sqrt(ll * (ll + 1)),
        }
    return {k: np.where(ok, v, 0.0) for k, v in f.items()}


def _lensed_correlation_step(sigma2, cgl2, cgl, precision: LensingPrecision):
    """The body of lensing_init's loop over l: adds one l to (xi, xi_X, xi_+, xi_-)."""
    c2, c0, fast = precision.c2_order, precision.c0_order, not precision.accurate

    def body(acc, d, x):
        ksi, ksix, ksip, ksim = acc
        fac, fac2 = x["fac"], x["fac2"]
        x000 = jnp.exp(-fac * sigma2)
        xp000 = -fac * x000
        x000sq = x000 * x000
        x220 = 0.25 * x["sqrt1"] * x000 * (1 + 0.5 * sigma2)
        x022 = x000 * (1 + sigma2 * (1 + 0.5 * sigma2))
        xp022 = -(fac - 1.0) * x022
        x242 = 0.25 * x["sqrt4"] * x000 * (1 + 2.5 * sigma2)
        x121 = -0.5 * x["sqrt2"] * x000 * (1 + 2.0 / 3.0 * sigma2)
        x132 = -0.5 * x["sqrt3"] * x000 * (1 + 5.0 / 3.0 * sigma2)
        xx = 2 * fac * cgl2 if (c2 > 2 or c0 > 0) else None  # l(l+1) C_gl,2 / 2

        # TT (CL05 eq. 38; LC06 eq. 9.12; CL05 eq. C1)
        lens = x000sq * d["d00"]
        if c2 >= 1:
            lens += xp000 * xp000 * d["d1m1"] * cgl2 * 8.0 * fac2
            if c2 >= 2:
                lens += (xp000 * xp000 * d["d00"] + x220 * x220 * d["d2m2"]) * cgl2 * cgl2
                if c2 >= 3:
                    lens += x000sq * xx * xx * xx * (1 / 8.0 * d["d1m1"] + 1 / 24.0 * d["d3m3"])
                    if c2 >= 4:
                        lens += x000sq * xx * xx * xx * xx * (1 / 64.0 * d["d00"] + 1 / 48.0 * d["d2m2"]
                                                             + 1 / 192.0 * d["d4m4"])
        if c0 == 1:
            lens += (2 * x000 * xp000 * d["d00"] + 8.0 * fac2 * xp000 * xp000 * d["d11"]) * cgl
        if fast:
            lens -= d["d00"]
        ksi = ksi + x["ltt"] * lens

        # TE (CL05 eq. 56 with X_112 -> X_121; LC06 eq. 9.18; CL05 eq. C4)
        lens = x022 * x000 * d["d20"]
        if c2 >= 1:
            lens += cgl2 * 2.0 * xp000 * x["sqrt5"] * (x121 * d["d11"] + x132 * d["d3m1"])
            if c2 >= 2:
                lens += 0.5 * cgl2 * cgl2 * ((2.0 * xp022 * xp000 + x220 * x220) * d["d20"]
                                             + x220 * x242 * d["d4m2"])
                if c2 >= 3:
                    lens += x000sq * xx * xx * xx * (1 / 16.0 * d["d11"] + 1 / 12.0 * d["d3m1"]
                                                     + 1 / 48.0 * d["d5m3"])
                    if c2 >= 4:
                        lens += x000sq * xx * xx * xx * xx * (10 / 384.0 * d["d20"] + 5 / 384.0 * d["d4m2"])
        if c0 == 1:
            lens += ((x022 * xp000 + xp022 * x000) * d["d20"]
                     + 2.0 * x["sqrt5"] * (xp000 * x132 * d["d31"] + x121 * xp000 * d["d1m1"])) * cgl
        if fast:
            lens -= d["d20"]
        ksix = ksix + x["lte"] * lens

        # EE +- BB (CL05 eqs. 54-55; LC06 eqs. 9.16-9.17; CL05 eqs. C2-C3)
        lensp = x022 * x022 * d["d22"]
        lensm = x022 * x022 * d["d2m2"]
        if c2 >= 1:
            lensp += 2.0 * cgl2 * x132 * x121 * d["d31"]
            lensm += cgl2 * (x121 * x121 * d["d1m1"] + x132 * x132 * d["d3m3"])
            if c2 >= 2:
                lensp += cgl2 * cgl2 * (xp022 * xp022 * d["d22"] + x242 * x220 * d["d40"])
                lensm += 0.5 * cgl2 * cgl2 * (2.0 * xp022 * xp022 * d["d2m2"] + x220 * x220 * d["d00"]
                                              + x242 * x242 * d["d4m4"])
                if c2 >= 3:
                    lensp += x000sq * xx * xx * xx * (1 / 8.0 * d["d31"] + 1 / 24.0 * d["d5m1"])
                    lensm += x000sq * xx * xx * xx * (1 / 12.0 * d["d1m1"] + 1 / 16.0 * d["d3m3"])
                    if c2 >= 4:
                        lensp += x000sq * xx * xx * xx * xx * (1 / 64.0 * d["d22"] + 1 / 48.0 * d["d40"]
                                                               + 1 / 192.0 * d["d6m2"])
                        lensm += x000sq * xx * xx * xx * xx * (1 / 96.0 * d["d00"] + 7 / 384.0 * d["d2m2"]
                                                               + 1 / 96.0 * d["d4m4"])
        if c0 == 1:
            lensp += (2 * x022 * xp022 * d["d22"] + x132 * x132 * d["d33"] + x121 * x121 * d["d11"]) * cgl
            lensm += (2 * x022 * xp022 * d["d2m2"] + 2 * x121 * x132 * d["d3m1"]) * cgl
        if fast:
            lensp -= d["d22"]
            lensm -= d["d2m2"]
        ksip = ksip + x["lp"] * lensp
        ksim = ksim + x["lm"] * lensm
        return (ksi, ksix, ksip, ksim), None

    return body


def _check_input(cl_unlensed: dict, l_max: int, l_unl: int, precision: LensingPrecision) -> None:
    for k in ("tt", "ee", "te", "bb", "pp"):
        if k not in cl_unlensed:
            raise CosmoSevereError(f"lensed_cl needs the unlensed C_l '{k}' (keys tt, ee, te, bb, pp)")
        n = jnp.shape(cl_unlensed[k])[0]
        need = l_unl + (precision.pp_extra_l if k == "pp" else 0)
        if n < need + 1:
            extra = f" + pp_extra_l = {need}" if k == "pp" and precision.pp_extra_l else f" = {need}"
            raise CosmoSevereError(
                f"lensed_cl(l_max={l_max}) needs the unlensed C_l '{k}' up to l = l_max + delta_l_max{extra} "
                f"(delta_l_max = {l_unl - l_max}); got l <= {n - 1}. Compute them further or lower delta_l_max.")
    if precision.pp_extra_l < 0:
        raise CosmoSevereError(f"lensing pp_extra_l must be >= 0, got {precision.pp_extra_l}")
    if not 0 <= precision.c0_order <= 1:
        raise CosmoSevereError(f"lensing c0_order must be 0 or 1, got {precision.c0_order}")
    if not 0 <= precision.c2_order <= 4:
        raise CosmoSevereError(f"lensing c2_order must be 0 .. 4, got {precision.c2_order}")
    if l_max < 2:
        raise CosmoSevereError(f"lensed_cl: l_max must be >= 2, got {l_max}")


def lensed_cl(cl_unlensed: dict, l_max: int, precision: LensingPrecision = LensingPrecision(),
              l_nodes: tuple | None = None) -> dict:
    """Lensed C_l^TT, EE, TE, BB for 0 <= l <= l_max (classy ``lensed_cl`` keys and normalisation).

    cl_unlensed: {'tt', 'ee', 'te', 'bb', 'pp' (required), 'tp', 'ep' (optional)}: dimensionless raw C_l
      indexed by l (classy ``raw_cl``), at least up to l_max + delta_l_max (``delta_l_max(l_max,
      precision)``); entries beyond are ignored. BB includes any tensor part.
    l_max, precision, l_nodes: static. l_nodes: None for every l, or CLASS's multipole list (e.g.
      ``l_sampling.class_l_nodes(l_max + delta_l_max, angular_rescaling)``) to compute at those l and spline
      as CLASS does.
    Returns {'ell', 'tt', 'ee', 'te', 'bb', 'pp', ...}: arrays of length l_max + 1, zero at l = 0, 1.
    Traceable: wrap in ``jax.jit`` with l_max, precision, l_nodes static, or use ``lensed_cl_jit``.
    """
    l_unl = l_max + delta_l_max(l_max, precision)
    _check_input(cl_unlensed, l_max, l_unl, precision)
    l_pp = l_unl + precision.pp_extra_l
    cl = {k: jnp.asarray(v, dtype=jnp.float64)[:l_unl + 1] for k, v in cl_unlensed.items() if k != "ell"}
    mu, w8 = quadrature(l_pp, precision)  # = l_unl (CLASS) unless pp_extra_l: resolve sigma^2 up to l_pp
    unroll = precision.unroll
    f = _l_factors(l_unl)
    ls = np.arange(l_unl + 1, dtype=np.float64)
    valid = ls >= 2

    # 1. C_gl, C_gl,2 on all mu (incl. mu = 1): sum_l (2l+1) l (l+1) C_pp d^l (CLASS's order), / 4 pi
    lp = np.arange(l_pp + 1, dtype=np.float64)
    pp = jnp.asarray(cl_unlensed["pp"], dtype=jnp.float64)[:l_pp + 1]
    w_pp = jnp.where(lp >= 2, (2.0 * lp + 1.0) * lp * (lp + 1.0) * pp, 0.0)
    zero_mu = jnp.zeros(len(mu))
    (cgl, cgl2), _ = scan_wigner_d(
        mu, ((1, 1), (1, -1)), l_pp,
        lambda acc, d, x: ((acc[0] + x * d["d11"], acc[1] + x * d["d1m1"]), None),
        (zero_mu, zero_mu), w_pp, unroll)
    cgl = cgl / (4.0 * math.pi)
    cgl2 = cgl2 / (4.0 * math.pi)
    sigma2 = cgl[-1] - cgl[:-1]

    # 2. lensed correlation functions on the quadrature points (mu = 1 excluded)
    fac1 = jnp.asarray(f["fac1"])
    xs = {"fac": f["fac"], "fac2": f["fac2"], "sqrt1": f["sqrt1"], "sqrt2": f["sqrt2"], "sqrt3": f["sqrt3"],
          "sqrt4": f["sqrt4"], "sqrt5": f["sqrt5"],
          "ltt": fac1 * cl["tt"], "lte": fac1 * cl["te"],
          "lp": fac1 * (cl["ee"] + cl["bb"]), "lm": fac1 * (cl["ee"] - cl["bb"])}
    xs = {k: jnp.where(valid, jnp.asarray(v), 0.0) for k, v in xs.items()}
    body = _lensed_correlation_step(sigma2, cgl2[:-1], cgl[:-1], precision)
    zero = jnp.zeros(len(mu) - 1)
    (ksi, ksix, ksip, ksim), _ = scan_wigner_d(mu[:-1], _d_pairs(precision), l_unl, body, (zero,) * 4, xs, unroll)

    # 3. back to C_l at the output multipoles (every l <= l_max, or CLASS's nodes up to one past l_max)
    nodes = None if l_nodes is None else lensed_l_nodes(np.asarray(l_nodes), l_max)
    l_top = l_max if nodes is None else int(nodes[-1])
    if l_top > l_unl:
        raise CosmoSevereError(f"lensed_cl: l_nodes go to l = {l_top} > l_max + delta_l_max = {l_unl}")
    wk = (jnp.asarray(w8) * ksi, jnp.asarray(w8) * ksix, jnp.asarray(w8) * ksip, jnp.asarray(w8) * ksim)

    def back(acc, d, x):
        return acc, jnp.stack([jnp.sum(wk[0] * d["d00"]), jnp.sum(wk[1] * d["d20"]),
                               jnp.sum(wk[2] * d["d22"]), jnp.sum(wk[3] * d["d2m2"])])

    _, y = scan_wigner_d(mu[:-1], ((0, 0), (2, 0), (2, 2), (2, -2)), l_top, back, jnp.zeros(()),
                         jnp.zeros(l_top + 1), unroll)
    lensed = {"tt": 2.0 * math.pi * y[:, 0], "te": 2.0 * math.pi * y[:, 1],
              "ee": math.pi * (y[:, 2] + y[:, 3]), "bb": math.pi * (y[:, 2] - y[:, 3])}
    if not precision.accurate:  # the fast method integrated lensed - unlensed: add the unlensed C_l back
        lensed = {k: v + cl[k][:l_top + 1] for k, v in lensed.items()}
    for k in PASS_THROUGH_KEYS:
        if k in cl:
            lensed[k] = cl[k][:l_top + 1]

    keep = jnp.asarray(np.arange(l_max + 1) >= 2)
    if nodes is None:
        out = {k: jnp.where(keep, v[:l_max + 1], 0.0) for k, v in lensed.items()}
    else:
        w = jnp.asarray(class_spline_matrix(tuple(int(n) for n in nodes), l_max))
        out = {k: w @ v[jnp.asarray(nodes)] for k, v in lensed.items()}
    out["ell"] = jnp.arange(l_max + 1)
    return out


lensed_cl_jit = jax.jit(lensed_cl, static_argnames=("l_max", "precision", "l_nodes"))
