"""One-loop kernels in closed form and their FFTLog matrices (derived here, not read from files).

Method (Simonović, Baldauf, Zaldarriaga, Carrasco, Kollmeier 2018, arXiv:1708.08130, "S18"):
with the FFTLog decomposition P(q) = sum_m c_m q^{eta_m} (eta_m = b + 2 pi i j/(N Delta), see
`fftlog.py`; we write nu = -eta/2 as S18 and CLASS-PT do):

* P22-type loops, 2 int d^3q/(2pi)^3 K(q, k-q) P(q) P(|k-q|), become the quadratic form
  k^3 sum_{m,m'} c_m k^{eta_m} M22[m,m'] c_m' k^{eta_m'}.  Writing the kernel K (after the exact
  azimuthal average around k) as sum_{a,b} C_ab (q^2/k^2)^a (|k-q|^2/k^2)^b, S18 (sec. 2) gives
  M22(nu1, nu2) = 2 sum_ab C_ab I(nu1 - a, nu2 - b),
  I(n1, n2) = Gamma(3/2-n1) Gamma(3/2-n2) Gamma(n1+n2-3/2) / (8 pi^{3/2} Gamma(n1) Gamma(n2)
              Gamma(3-n1-n2)).
* P13-type loops, 6 Z1(k) P(k) int d^3q/(2pi)^3 Z3(k,q,-q) P(q) = k^3 P(k)/(4 pi^2) int dr r^2
  P(kr) g(r), r = q/k.  The angular integral g(r) is a Laurent polynomial in r plus a Laurent
  polynomial times L(r) = ln|(1+r)/(1-r)| (exact, see `_x_integral`).  With the Mellin transform
  int_0^inf r^{s-1} L(r) dr = (pi/s) tan(pi s/2) and the analytic continuation in which pure
  powers of r integrate to zero (S18 sec. 2.2), M13(nu) = (1/4pi^2) sum_j e_j (pi/s_j) tan(pi s_j/2)
  with s_j = 3 + j - 2 nu and e_j the coefficient of r^j L(r) in g.  The UV part removed by the
  continuation is put back explicitly as -C_UV k^2 sigma_v^2 P(k), sigma_v^2 = int dq P/(6 pi^2),
  with C_UV = -(3/2) lim_{r->inf} r^2 g(r) derived from the same exact g (as CLASS-PT,
  nonlinear_pt.c, function nonlinear_pt_loop, "P13UV").

Kernels: SPT F2, G2 (Bernardeau et al. 2002, Phys. Rep. 367, 1, sec. 2.4), F3, G3 from their
recursion; redshift-space Z1, Z2, Z3 from the expansion of delta_s(k) in powers of the line-of-
sight velocity (Scoccimarro, Couchman & Frieman 1999, ApJ 517, 531, sec. 2); bias operators
delta^2, G2 = S(k1,k2) = (k1.k2)^2/(k1^2 k2^2) - 1 and Gamma3 (Assassi et al. 2014,
arXiv:1402.5916; Ivanov et al. 2019, arXiv:1909.05277, sec. 2) with CLASS-PT's
normalisation of the b_i (Chudaykin et al. 2020, arXiv:2004.10607, sec. 2).

All derivations are exact (fractions) and run once at first use (~1 s, cached in memory).
"""

from __future__ import annotations

import functools
from fractions import Fraction

import numpy as np
from scipy.special import loggamma

from boltzax.pt._poly import Poly, double_factorial_ratio

# ---------------------------------------------------------------------------------------------
# P22-type kernels: variables Q = q^2/k^2, P = |k-q|^2/k^2, u = q.z/k, mu = k.z/k
# ---------------------------------------------------------------------------------------------
_V22 = ("Q", "P", "u", "mu", "f", "b1", "c")


def _v22(name, power=1, coeff=1):
    return Poly.var(_V22, name, power, coeff)


def _z2_pieces():
    """F2, G2, S and the matter part of Z2 for (q, p = k - q), k = 1 (S18 variables)."""
    one = Poly.const(_V22, 1)
    Qi, Pi = _v22("Q", -1), _v22("P", -1)
    qp = (one - _v22("Q") - _v22("P")) * Fraction(1, 2)  # q.p
    F2 = Fraction(5, 7) + Fraction(1, 2) * qp * (Qi + Pi) + Fraction(2, 7) * qp * qp * Qi * Pi
    G2 = Fraction(3, 7) + Fraction(1, 2) * qp * (Qi + Pi) + Fraction(4, 7) * qp * qp * Qi * Pi
    S = qp * qp * Qi * Pi - 1
    mu, f, b1, u = _v22("mu"), _v22("f"), _v22("b1"), _v22("u")
    uq, up = u, mu - u  # q.z and p.z (k.z = mu)
    Z2m = (b1 * F2 + f * mu * mu * G2
           + Fraction(1, 2) * f * mu * (uq * Qi * (b1 + f * up * up * Pi)
                                       + up * Pi * (b1 + f * uq * uq * Qi)))
    return F2, G2, S, Z2m


def _azimuthal_average_22(p: Poly) -> Poly:
    """Average over the azimuth of q around k: u = w mu + c, w = q.k = (1+Q-P)/2,
    <c^{2m}> = (Q - w^2)^m (1 - mu^2)^m (2m-1)!!/(2m)!!, odd powers vanish."""
    iu = _V22.index("u")
    w = (Poly.const(_V22, 1) + _v22("Q") - _v22("P")) * Fraction(1, 2)
    mu, c = _v22("mu"), _v22("c")
    perp2 = (_v22("Q") - w * w) * (1 - mu * mu)
    cache = {}

    def sub(e, coeff):
        n = e[iu]
        if n not in cache:
            expanded = (w * mu + c) ** n
            out = Poly(_V22, {})
            for ec, cc in expanded.terms.items():
                m2 = ec[_V22.index("c")]
                if m2 % 2:
                    continue
                base = Poly(_V22, {tuple(0 if i == _V22.index("c") else x for i, x in enumerate(ec)): cc})
                out = out + base * perp2 ** (m2 // 2) * double_factorial_ratio(m2 // 2)
            cache[n] = out
        rest = tuple(0 if i == iu else x for i, x in enumerate(e))
        return Poly(_V22, {rest: coeff}) * cache[n]

    return p.map_terms(sub)


@functools.lru_cache(maxsize=None)
def p22_kernels():
    """Exact P22 kernels, azimuthally averaged, as {name: {(mu_pow, f_pow, b1_pow): {(a, b): C}}}.

    `m22_matrix` turns K into the matrix of 2 int d^3q/(2pi)^3 K(q, k-q) P(q) P(|k-q|) for:
      'mm'     Z2m^2, Z2m = b1 F2 + f mu^2 G2 + (f mu k/2)[mu_q/q (b1 + f mu_p^2) + (q <-> p)]
               (Scoccimarro et al. 1999 with linear bias; real space: mu^0 f^0 b1^2 = F2^2)
      'b2'     Z2m        (with Z2_g = Z2m + b2/2 + bG2 S, the b2 coefficient of 2 int Z2_g^2 P P
                          is 2 int Z2m P P: matrices.bias_matrices 'b1b2'/'b2', factor 1)
      'bG2'    Z2m S      (bG2 coefficient: 4 int Z2m S P P: factor 2 in matrices.bias_matrices)
      'd2d2'   1,  'd2G2' S,  'G2G2' S^2,  'F2d2' F2,  'F2G2' F2 S,  'F2F2' F2^2  (real space;
               CLASS-PT's I_d2d2, I_d2G2, I_G2G2, I_d2, I_G2 are 2 int K P P with these K)
    """
    F2, G2, S, Z2m = _z2_pieces()
    one = Poly.const(_V22, 1)
    raw = {"mm": Z2m * Z2m, "b2": Z2m, "bG2": Z2m * S,
           "d2d2": one, "d2G2": S, "G2G2": S * S, "F2d2": F2, "F2G2": F2 * S, "F2F2": F2 * F2}
    out = {}
    for name, poly in raw.items():
        avg = _azimuthal_average_22(poly)
        groups = avg.collect(("mu", "f", "b1"))
        out[name] = {key: {(e[0], e[1]): c for e, c in g.terms.items()} for key, g in groups.items()}
    return out


# ---------------------------------------------------------------------------------------------
# P13-type kernels: vectors a k + b q with k = 1, r = q/k, x = cos(k,q), mu = k.z, c = perp part
# ---------------------------------------------------------------------------------------------
_V13 = ("r", "x", "mu", "c", "f", "b1", "Dp", "Dm")


def _v13(name, power=1, coeff=1):
    return Poly.var(_V13, name, power, coeff)


def _dot(v, w):
    (a1, b1), (a2, b2) = v, w
    return (Poly.const(_V13, a1 * a2) + _v13("r") * _v13("x") * (a1 * b2 + a2 * b1)
            + _v13("r", 2) * (b1 * b2))


def _zdot(v):
    a, b = v
    return _v13("mu") * a + _v13("r") * (_v13("x") * _v13("mu") + _v13("c")) * b


def _inv2(v):
    """1/|v|^2 for v in {+-k, +-q, k+-q}: 1, r^-2 or the marker of 1/|k+-q|^2."""
    a, b = v
    if (a, b) == (0, 0):
        raise ZeroDivisionError
    if b == 0:
        return Poly.const(_V13, Fraction(1, a * a))
    if a == 0:
        return _v13("r", -2, Fraction(1, b * b))
    return _v13("Dp") if a * b > 0 else _v13("Dm")


def _add(v, w):
    return (v[0] + w[0], v[1] + w[1])


def _F2G2(v, w):
    d = _dot(v, w)
    ivw = _inv2(v) + _inv2(w)
    d2 = d * d * _inv2(v) * _inv2(w)
    F = Fraction(5, 7) + Fraction(1, 2) * d * ivw + Fraction(2, 7) * d2
    G = Fraction(3, 7) + Fraction(1, 2) * d * ivw + Fraction(4, 7) * d2
    return F, G


def _alpha(v, w):
    return _dot(_add(v, w), v) * _inv2(v)


def _beta(v, w):
    s = _add(v, w)
    return _dot(s, s) * _dot(v, w) * _inv2(v) * _inv2(w) * Fraction(1, 2)


def _F3G3_unsym(v1, v2, v3):
    """Unsymmetrised F3, G3 from the SPT recursion (Bernardeau et al. 2002, sec. 2.4, n=3:
    prefactor 1/((2n+3)(n-1)) = 1/18).  Terms whose second-order factor is F2/G2(q,-q) = 0 are
    dropped (they multiply a 0/0 of alpha/beta whose limit is zero)."""
    F = Poly(_V13, {})
    G = Poly(_V13, {})
    v23, v12 = _add(v2, v3), _add(v1, v2)
    if v23 != (0, 0):
        F23, G23 = _F2G2(v2, v3)
        a, b = _alpha(v1, v23), _beta(v1, v23)
        F = F + (7 * a * F23 + 2 * b * G23) * Fraction(1, 18)
        G = G + (3 * a * F23 + 6 * b * G23) * Fraction(1, 18)
    if v12 != (0, 0):
        _, G12 = _F2G2(v1, v2)
        a, b = _alpha(v12, v3), _beta(v12, v3)
        F = F + G12 * (7 * a + 2 * b) * Fraction(1, 18)
        G = G + G12 * (3 * a + 6 * b) * Fraction(1, 18)
    return F, G


def _Z3_unsym(v1, v2, v3):
    """Unsymmetrised redshift-space Z3 with linear bias b1 (Scoccimarro et al. 1999;
    total wavevector k = v1+v2+v3 = k, |k| = 1, k.z = mu)."""
    mu, f, b1 = _v13("mu"), _v13("f"), _v13("b1")
    F3, G3 = _F3G3_unsym(v1, v2, v3)
    out = b1 * F3 + f * mu * mu * G3
    v12, v23 = _add(v1, v2), _add(v2, v3)
    if v12 != (0, 0):
        F12, G12 = _F2G2(v1, v2)
        mu12sq = _zdot(v12) * _zdot(v12) * _inv2(v12)
        out = out + f * mu * (b1 * F12 + f * mu12sq * G12) * _zdot(v3) * _inv2(v3)
    if v23 != (0, 0):
        _, G23 = _F2G2(v2, v3)
        mu1sq = _zdot(v1) * _zdot(v1) * _inv2(v1)
        out = out + f * mu * (b1 + f * mu1sq) * G23 * _zdot(v23) * _inv2(v23)
    mu1sq = _zdot(v1) * _zdot(v1) * _inv2(v1)
    out = out + Fraction(1, 2) * f * f * mu * mu * (b1 + f * mu1sq) * _zdot(v2) * _zdot(v3) \
        * _inv2(v2) * _inv2(v3)
    return out


def _sym3(fn):
    vs = [(1, 0), (0, 1), (0, -1)]
    perms = [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]
    tot = Poly(_V13, {})
    for p in perms:
        tot = tot + fn(vs[p[0]], vs[p[1]], vs[p[2]])
    return tot * Fraction(1, 6)


def _azimuthal_average_13(p: Poly) -> Poly:
    ic, ix, imu = _V13.index("c"), _V13.index("x"), _V13.index("mu")
    one = Poly.const(_V13, 1)
    perp = (one - _v13("x", 2)) * (one - _v13("mu", 2))

    def sub(e, coeff):
        m = e[ic]
        if m % 2:
            return Poly(_V13, {})
        rest = tuple(0 if i == ic else x for i, x in enumerate(e))
        return Poly(_V13, {rest: coeff}) * perp ** (m // 2) * double_factorial_ratio(m // 2)

    return p.map_terms(sub)


def _x_integral(p: Poly):
    """int_{-1}^{1} dx of a polynomial in x times at most one 1/|k+-q|^2 marker.

    With a = 1 + r^2, b = 2r: x^n/(a - b x) = (a/b)^n/(a - b x) - (1/b) sum_{i<n} (a/b)^{n-1-i} x^i,
    int_{-1}^{1} dx/(a - b x) = L(r)/r; the 1/(a + b x) case follows from x -> -x.
    Returns (poly_part, log_part) as Laurent polynomials in r (other variables kept)."""
    ix, ip, im, ir = _V13.index("x"), _V13.index("Dp"), _V13.index("Dm"), _V13.index("r")
    ab = (_v13("r") + _v13("r", -1)) * Fraction(1, 2)  # a/b
    inv_b = _v13("r", -1, Fraction(1, 2))
    poly, log = Poly(_V13, {}), Poly(_V13, {})

    def xint(i):
        return Fraction(2, i + 1) if i % 2 == 0 else Fraction(0)

    for e, c in p.terms.items():
        n, dp, dm = e[ix], e[ip], e[im]
        rest = Poly(_V13, {tuple(0 if j in (ix, ip, im) else x for j, x in enumerate(e)): c})
        if dp + dm == 0:
            poly = poly + rest * xint(n)
            continue
        assert dp + dm == 1, "products of 1/|k+q|^2 and 1/|k-q|^2 do not occur"
        sign = (-1) ** n if dp else 1
        log = log + rest * ab ** n * _v13("r", -1) * sign
        acc = Poly(_V13, {})
        for i in range(n):
            acc = acc + ab ** (n - 1 - i) * xint(i)
        poly = poly - rest * inv_b * acc * sign
    return poly, log


def _uv_coefficient(poly: Poly, log: Poly, order=12):
    """lim r->inf r^2 g(r) with L(r) = 2 sum_{k odd} r^{-k}/k; also checks that the terms growing
    faster than r^-2 cancel.  Returns a Fraction."""
    ir = _V13.index("r")
    Lser = Poly(_V13, {})
    for k in range(1, 2 * order, 2):
        Lser = Lser + _v13("r", -k, Fraction(2, k))
    g = poly + log * Lser
    out = Fraction(0)
    for e, c in g.terms.items():
        if e[ir] > -2 and (e[ir] < 2 * order - 20):
            raise ValueError(f"P13 kernel not UV-safe: r^{e[ir]} term {c}")
        if e[ir] == -2:
            out += c
    return out


@functools.lru_cache(maxsize=None)
def p13_kernels():
    """Exact P13 kernels g(r) = int dx <6 Z1(k) Z3(k,q,-q)>_phi, split by (mu, f, b1) powers.

    Returns {name: {(mu_pow, f_pow, b1_pow): (log_coeffs {j: e_j}, C_UV)}} with
      'mm'   6 Z1 Z3 (redshift space, b1 and f symbolic; real space: mu = f = 0, b1 = 1)
      'FG2'  4 S(q, k-q) (F2 - G2)(k, -q) times 5/2 (CLASS-PT's I_FG2 normalisation, see bias.py)
    and C_UV defined by P13 ⊃ -C_UV k^2 sigma_v^2 P(k)."""
    mu, f, b1 = _v13("mu"), _v13("f"), _v13("b1")
    Z3 = _sym3(_Z3_unsym)
    g_mm = _azimuthal_average_13(6 * (b1 + f * mu * mu) * Z3)
    # Gamma3 / G2 third-order operator: 3 K3_sym(k,q,-q) -> 4 S(q,k-q) [F2 - G2](k,-q) after
    # q -> -q symmetry of the integral; I_FG2 = (5/2) x that (CLASS-PT normalises the operator so
    # that P_gg ⊃ 2 b1 (bG2 + 2/5 bGamma3) I_FG2).
    q, kmq, k, mq = (0, 1), (1, -1), (1, 0), (0, -1)
    dq = _dot(q, kmq)
    S1 = dq * dq * _inv2(q) * _inv2(kmq) - 1
    F, G = _F2G2(k, mq)
    g_fg2 = _azimuthal_average_13(Fraction(5, 2) * 4 * S1 * (F - G))
    out = {}
    for name, g in (("mm", g_mm), ("FG2", g_fg2)):
        poly, log = _x_integral(g)
        r2 = _v13("r", 2)
        poly, log = poly * r2 * Fraction(1, 1), log * r2
        # (multiply by r^2 then divide again below: keeps exponents readable in debugging)
        pg = poly.collect(("mu", "f", "b1"))
        lg = log.collect(("mu", "f", "b1"))
        res = {}
        for key in set(pg) | set(lg):
            pp = pg.get(key, Poly(_V13, {})) * _v13("r", -2)
            ll = lg.get(key, Poly(_V13, {})) * _v13("r", -2)
            cuv = -Fraction(3, 2) * _uv_coefficient(pp, ll)
            logc = {e[_V13.index("r")]: c for e, c in ll.terms.items()}
            if logc or cuv:
                res[key] = (logc, cuv)
        out[name] = res
    return out


# ---------------------------------------------------------------------------------------------
# Numerical matrices
# ---------------------------------------------------------------------------------------------
def master_I(n1, n2):
    """S18 master integral: int d^3q/(2pi)^3 q^{-2 n1} |k-q|^{-2 n2} = k^{3-2(n1+n2)} I(n1, n2)."""
    n12 = n1 + n2
    lg = (loggamma(1.5 - n1) + loggamma(1.5 - n2) + loggamma(n12 - 1.5)
          - loggamma(n1) - loggamma(n2) - loggamma(3.0 - n12))
    return np.exp(lg) / (8.0 * np.pi ** 1.5)


def _gamma_ratio_A(nu):
    """A(nu) = Gamma(3/2 - nu)/Gamma(nu) as exp(loggamma) (complex)."""
    return np.exp(loggamma(1.5 - nu) - loggamma(nu))


def _gamma_ratio_B(s):
    """B(s) = Gamma(s - 3/2)/(8 pi^{3/2} Gamma(3 - s)); I(n1, n2) = A(n1) A(n2) B(n1 + n2)."""
    return np.exp(loggamma(s - 1.5) - loggamma(3.0 - s)) / (8.0 * np.pi ** 1.5)


def m22_matrix(terms, nu):
    """M22[i, j] = 2 sum C_ab I(nu_i - a, nu_j - b), symmetrised (the quadratic form only sees
    the symmetric part).  ``terms``: {(a, b): C}.  Uses the factorisation
    I(n1, n2) = A(n1) A(n2) B(n1 + n2); on the FFTLog grid nu_i + nu_j depends on i + j only, so
    B is evaluated on 2N+1 values per shift (a Hankel matrix)."""
    n = nu.size
    step = nu[1] - nu[0]
    assert np.allclose(np.diff(nu), step), "m22_matrix needs the uniform FFTLog grid of nu"
    sums = 2 * nu[0] + step * np.arange(2 * n - 1)
    hank = np.add.outer(np.arange(n), np.arange(n))
    A, B = {}, {}
    M = np.zeros((n, n), complex)
    for (a, b), c in terms.items():
        for s in (a, b):
            if s not in A:
                A[s] = _gamma_ratio_A(nu - s)
        if a + b not in B:
            B[a + b] = _gamma_ratio_B(sums - (a + b))[hank]
        M += float(c) * np.outer(A[a], A[b]) * B[a + b]
    M *= 2.0
    return 0.5 * (M + M.T)


def m13_vector(log_coeffs, nu):
    """M13(nu) = (1/4pi^2) sum_j e_j (pi/s) tan(pi s/2), s = 3 + j - 2 nu."""
    out = np.zeros(nu.shape, complex)
    for j, e in log_coeffs.items():
        s = 3.0 + j - 2.0 * nu
        out += float(e) * np.pi / s * np.tan(np.pi * s / 2.0)
    return out / (4.0 * np.pi ** 2)
