"""CLASS's wavenumber range for P(k) and the nonlinear corrections, and its spline quadrature.

CLASS's Halofit integrates the linear spectrum between the first and the last wavenumber of CLASS's own
perturbation grid (``external/Halofit/halofit.c``: ``pfo->k[0]`` to ``pfo->k[k_size-1]``), and at high
redshift (z >~ 4), where the nonlinear radius R_nl is small, the result depends on where that grid ends
(7 % at z = 4.8 between k_last = 20 and 22 /Mpc).  This module reproduces the two ends:

* ``k_min`` (perturbations.c, perturbations_get_k_list): k_min_tau0 / tau0 in flat space,
  sqrt(-K + (k_min_tau0 / tau0 / angular_rescaling)^2) in open space (K < 0), sqrt((8 - 1e-4) K) in
  closed space (K > 0, scalars); angular_rescaling = ra_rec / (tau0 - tau_rec) (thermodynamics.c).
* ``k_last``: without C_l (output = mPk only), the grid is logarithmic from k_min, one step
  k -> k 10^(1 / n(k)) with n(k) = k_per_decade_for_pk + (k_per_decade_for_bao - k_per_decade_for_pk)
  (1 - tanh([ln(k / (k_bao_center k_rec)) / ln(k_bao_width)]^4)), k_rec = 2 pi / rs_rec, repeated while
  k < k_max; the last point is the first one >= k_max, with k_max = max(P_k_max, nonlinear_min_k_max)
  (perturbations.c: ``k_max = MAX(k_max, ppr->nonlinear_min_k_max)`` when the nonlinear corrections use
  delta_m).  With C_l requested the grid has a CMB part before this one (not reproduced: C_l are not
  implemented yet).

Quadrature (halofit.c, halofit_integrate): the integrand is tabulated at halofit_k_per_decade points per
decade from k_min, n = int(log10(k_last / k_min) halofit_k_per_decade) + 1 points, fitted with a natural
cubic spline in k (tools/arrays.c array_spline, _SPLINE_NATURAL_) and the spline integrated exactly
(array_integrate_all_spline).  That integral is linear in the tabulated values: ``spline_weights``
returns the weights w with int f dk = sum_i w_i f(k_i).  The number of points depends on the cosmology,
so arrays have a static length ``n_max`` and the points beyond n carry zero weight.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp


@dataclasses.dataclass(frozen=True)
class ClassKGridPrecision:
    """CLASS's precision parameters of the P(k) wavenumber grid (include/precisions.h)."""

    k_min_tau0: float = 0.1  # k_min tau0 (dimensionless)
    k_per_decade_for_pk: float = 10.0  # log points per decade outside the BAO region
    k_per_decade_for_bao: float = 70.0  # log points per decade at the BAO centre
    k_bao_center: float = 3.0  # BAO region centre in units of k_rec = 2 pi / rs_rec
    k_bao_width: float = 4.0  # BAO region width (ln k units: ln(k_bao_width))
    max_steps: int = 10000  # bound on the log-grid loop (CLASS _MAX_IT_-like guard)


def class_k_min(conformal_age, K, ra_rec, tau_rec, g: ClassKGridPrecision = ClassKGridPrecision()):
    """CLASS's first perturbation wavenumber [1/Mpc] (scalars), see the module docstring.
    conformal_age, ra_rec, tau_rec [Mpc]; K = -Omega_k H0^2 [1/Mpc^2]."""
    flat = g.k_min_tau0 / conformal_age
    rescaling = ra_rec / (conformal_age - tau_rec)
    open_ = jnp.sqrt(jnp.abs(K) + (flat / rescaling) ** 2)  # K < 0: -K = |K|
    closed = jnp.sqrt((8.0 - 1e-4) * jnp.abs(K))
    return jnp.where(K < 0, open_, jnp.where(K > 0, closed, flat))


def class_k_last(k_min, rs_rec, k_max, g: ClassKGridPrecision = ClassKGridPrecision()):
    """Last wavenumber [1/Mpc] of CLASS's P(k) grid (output = mPk, no C_l): the first point of the BAO-aware
    logarithmic grid started at k_min that is >= k_max (perturbations.c, perturbations_get_k_list).  A
    scalar while-loop; not differentiated (integer-valued step count; see `halofit`)."""
    k_min, rs_rec, k_max = (jax.lax.stop_gradient(jnp.asarray(x, dtype=float)) for x in (k_min, rs_rec, k_max))
    ln_center = jnp.log(g.k_bao_center * 2.0 * jnp.pi / rs_rec)
    ln_width = math.log(g.k_bao_width)
    dn = g.k_per_decade_for_bao - g.k_per_decade_for_pk

    def step(c):
        k, i = c
        n = g.k_per_decade_for_pk + dn * (1.0 - jnp.tanh(((jnp.log(k) - ln_center) / ln_width) ** 4))
        return k * 10.0 ** (1.0 / n), i + 1

    k, _ = jax.lax.while_loop(lambda c: (c[0] < k_max) & (c[1] < g.max_steps), step, (k_min, 0))
    return jnp.maximum(k, k_min)


def n_points_max(k_max_static: float, k_per_decade: float, k_min_floor: float = 1e-6,
                 g: ClassKGridPrecision = ClassKGridPrecision()) -> int:
    """Static length of the quadrature arrays: enough points for k_min >= k_min_floor [1/Mpc] (CLASS's
    flat-space k_min = 0.1 / tau0 is above 1e-6 /Mpc for tau0 < 1e5 Mpc) and k_last <= k_max_static
    10^(1 / k_per_decade_for_pk) (the last log step overshoots k_max by at most one step)."""
    k_hi = k_max_static * 10.0 ** (1.0 / g.k_per_decade_for_pk)
    return int(math.log10(k_hi / k_min_floor) * k_per_decade) + 2


def quadrature_points(k_min, k_last, k_per_decade: float, n_max: int):
    """CLASS's Halofit quadrature points k_i = k_min 10^(i / k_per_decade), i < n with
    n = int(log10(k_last / k_min) k_per_decade) + 1 (halofit.c).  Returns (k (n_max,), n); points at i >= n
    continue the progression (finite, carry zero weight)."""
    n = jnp.floor(jnp.log10(jax.lax.stop_gradient(k_last / k_min)) * k_per_decade).astype(int) + 1
    n = jnp.clip(n, 2, n_max)
    i = jnp.arange(n_max, dtype=float)
    return k_min * 10.0 ** (i / k_per_decade), n


def spline_weights(x, n):
    """Weights w (len(x),) such that sum_i w_i y_i is the exact integral over [x_0, x_{n-1}] of the natural
    cubic spline through (x_i, y_i), i < n (tools/arrays.c array_spline natural + array_integrate_all_spline:
    int = sum_i h_i (y_i + y_{i+1}) / 2 - h_i^3 (M_i + M_{i+1}) / 24, M the spline's second derivatives,
    M_0 = M_{n-1} = 0).  Points i >= n get weight 0.

    With M = A^{-1} B y (A the symmetric tridiagonal system of the interior second derivatives, B the
    second-difference operator), int = t.y - c.M = (t - B^T A^{-1} c).y: one tridiagonal solve (Thomas
    algorithm as a scan) gives the weights."""
    m = x.shape[0]
    i = jnp.arange(m)
    h = jnp.diff(x)  # (m-1,)
    seg = i[:-1] < n - 1  # intervals inside [x_0, x_{n-1}]
    h_in = jnp.where(seg, h, 0.0)
    # trapezoid part t and the second-derivative coefficients c of the integral
    t = jnp.zeros(m).at[:-1].add(h_in / 2).at[1:].add(h_in / 2)
    c = jnp.zeros(m).at[:-1].add(h_in**3 / 24).at[1:].add(h_in**3 / 24)
    interior = (i >= 1) & (i <= n - 2)
    hm = jnp.concatenate([jnp.ones(1), h])  # h_{i-1} (index 0: unused)
    hp = jnp.concatenate([h, jnp.ones(1)])  # h_i     (index m-1: unused)
    diag = jnp.where(interior, 2.0 * (hm + hp), 1.0)
    # off-diagonal A_{i,i+1} = A_{i+1,i} = h_i when both rows are interior (M_0 = M_{n-1} = 0 are known)
    off = jnp.where(interior[:-1] & interior[1:], h, 0.0)  # (m-1,)
    rhs = jnp.where(interior, c, 0.0)
    u = _tridiag_sym_solve(diag, off, rhs)  # A^{-1} c restricted to the interior
    # B y at interior row i: 6 [(y_{i+1} - y_i) / h_i - (y_i - y_{i-1}) / h_{i-1}]; B^T u:
    u_in = jnp.where(interior, u, 0.0)
    a_plus = 6.0 * u_in / hp  # coefficient on y_{i+1} from row i
    a_minus = 6.0 * u_in / hm  # coefficient on y_{i-1} from row i
    bt_u = -(a_plus + a_minus)  # diagonal
    bt_u = bt_u.at[1:].add(a_plus[:-1]).at[:-1].add(a_minus[1:])
    return jnp.where(i < n, t - bt_u, 0.0)


def _tridiag_sym_solve(diag, off, rhs):
    """Solve the symmetric tridiagonal system (diag, off) x = rhs (Thomas algorithm, lax.scan)."""

    def fwd(carry, inp):
        cp_prev, dp_prev = carry
        d, o_prev, o_next, r = inp
        den = d - o_prev * cp_prev
        cp = o_next / den
        dp = (r - o_prev * dp_prev) / den
        return (cp, dp), (cp, dp)

    o_prev = jnp.concatenate([jnp.zeros(1), off])
    o_next = jnp.concatenate([off, jnp.zeros(1)])
    _, (cp, dp) = jax.lax.scan(fwd, (0.0, 0.0), (diag, o_prev, o_next, rhs))

    def bwd(x_next, inp):
        cpi, dpi = inp
        x = dpi - cpi * x_next
        return x, x

    _, x = jax.lax.scan(bwd, 0.0, (cp, dp), reverse=True)
    return x


def class_k_nodes(k_min: float, rs_rec: float, k_max: float, g: ClassKGridPrecision = ClassKGridPrecision()):
    """CLASS's perturbation wavenumbers [1/Mpc] for output = mPk (numpy, host side): the BAO-aware log grid
    of `class_k_last` from k_min to its first point >= k_max, every node (HMcode splines ln P on them)."""
    import numpy as np

    ln_center = math.log(g.k_bao_center * 2.0 * math.pi / rs_rec)
    ln_width = math.log(g.k_bao_width)
    dn = g.k_per_decade_for_bao - g.k_per_decade_for_pk
    k, out = float(k_min), [float(k_min)]
    while k < k_max and len(out) < g.max_steps:
        n = g.k_per_decade_for_pk + dn * (1.0 - math.tanh(((math.log(k) - ln_center) / ln_width) ** 4))
        k = k * 10.0 ** (1.0 / n)
        out.append(k)
    return np.asarray(out)
