"""Cubic splines as CLASS's ``tools/arrays.c`` builds them, in JAX (traced abscissae allowed).

CLASS splines almost everything with ``_SPLINE_EST_DERIV_``: a clamped cubic spline whose end slopes are
those of the parabola through the first (last) three points (``array_spline_table_lines``,
``array_spline_table_columns2``). The second derivatives M_i solve the tridiagonal system

    h_{i-1}/6 M_{i-1} + (h_{i-1}+h_i)/3 M_i + h_i/6 M_{i+1} = (y_{i+1}-y_i)/h_i - (y_i-y_{i-1})/h_{i-1}
    h_0/3 M_0 + h_0/6 M_1 = (y_1-y_0)/h_0 - y'_0,   h/6 M_{n-2} + h/3 M_{n-1} = y'_{n-1} - (y_{n-1}-y_{n-2})/h

(Numerical Recipes 3.3 with given end slopes). Functions here take the abscissa ``x`` (n,) and values
``y`` (n, ...) with the spline axis first; trailing axes are independent columns.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax.lax.linalg import tridiagonal_solve


def _est_deriv_slopes(x, y):
    """End slopes of the parabolas through the first and last three points (CLASS dy_first, dy_last)."""
    x0, x1, x2 = x[0], x[1], x[2]
    d01, d02 = y[1] - y[0], y[2] - y[0]
    dy_first = ((x2 - x0) ** 2 * d01 - (x1 - x0) ** 2 * d02) / ((x2 - x0) * (x1 - x0) * (x2 - x1))
    xa, xb, xc = x[-3], x[-2], x[-1]
    dy_last = ((xa - xc) ** 2 * (y[-2] - y[-1]) - (xb - xc) ** 2 * (y[-3] - y[-1])) / (
        (xa - xc) * (xb - xc) * (xa - xb))
    return dy_first, dy_last


def spline_d2(x, y):
    """Second derivatives M (same shape as y) of CLASS's ``_SPLINE_EST_DERIV_`` spline of y(x) along axis 0."""
    n = x.shape[0]
    y2d = y.reshape(n, -1)
    h = jnp.diff(x)
    hb = h[:, None]
    dy_first, dy_last = _est_deriv_slopes(x[:, None], y2d)
    slope = (y2d[1:] - y2d[:-1]) / hb
    rhs = jnp.concatenate([(slope[:1] - dy_first[None]),
                           slope[1:] - slope[:-1],
                           (dy_last[None] - slope[-1:])], axis=0)
    d = jnp.concatenate([h[:1] / 3.0, (h[:-1] + h[1:]) / 3.0, h[-1:] / 3.0])
    dl = jnp.concatenate([jnp.zeros(1, x.dtype), h / 6.0])
    du = jnp.concatenate([h / 6.0, jnp.zeros(1, x.dtype)])
    m = tridiagonal_solve(dl, d, du, rhs)
    return m.reshape(y.shape)


def spline_eval(x, y, m, xe):
    """Evaluate the spline (x, y, M) at points xe (any shape; clamped to [x_0, x_{n-1}]).

    Returns shape xe.shape + y.shape[1:] (CLASS ``array_interpolate_spline`` formula)."""
    n = x.shape[0]
    i = jnp.clip(jnp.searchsorted(x, xe, side="right") - 1, 0, n - 2)
    h = x[i + 1] - x[i]
    b = (xe - x[i]) / h
    a = 1.0 - b
    ext = (slice(None),) * xe.ndim + (None,) * (y.ndim - 1)
    a, b, h = a[ext], b[ext], h[ext]
    return a * y[i] + b * y[i + 1] + ((a ** 3 - a) * m[i] + (b ** 3 - b) * m[i + 1]) * h * h / 6.0


def spline_integral(x, y, m):
    """Integral of the spline over [x_0, x_{n-1}] along axis 0 (CLASS ``array_integrate_all_trapzd_or_spline``
    with the spline from the first point): sum h (y_i + y_{i+1})/2 - h^3 (M_i + M_{i+1})/24."""
    h = jnp.diff(x).reshape((-1,) + (1,) * (y.ndim - 1))
    return jnp.sum(h * (y[1:] + y[:-1]) / 2.0 - h ** 3 * (m[1:] + m[:-1]) / 24.0, axis=0)


def spline_d2_masked(x, y, n):
    """`spline_d2` on the first n (traced) points of a padded abscissa x (strictly increasing everywhere);
    rows >= n get M = 0 and do not couple. Lets grids of cosmology-dependent length keep a static shape."""
    size = x.shape[0]
    y2d = y.reshape(size, -1)
    idx = jnp.arange(size)
    h = jnp.diff(x)
    slope = (y2d[1:] - y2d[:-1]) / h[:, None]
    first_dy, _ = _est_deriv_slopes(x[:3, None], y2d[:3])
    tail = jnp.stack([n - 3, n - 2, n - 1])
    _, last_dy = _est_deriv_slopes(x[tail][:, None], y2d[tail])
    h_last = x[n - 1] - x[n - 2]
    slope_last = (y2d[n - 1] - y2d[n - 2]) / h_last
    interior = jnp.concatenate([jnp.zeros((1,) + slope.shape[1:]), slope[1:] - slope[:-1],
                                jnp.zeros((1,) + slope.shape[1:])], axis=0)
    rhs = interior.at[0].set(slope[0] - first_dy)
    is_last = (idx == n - 1)[:, None]
    rhs = jnp.where(is_last, (last_dy - slope_last)[None, :], rhs)
    rhs = jnp.where((idx >= n)[:, None], 0.0, rhs)
    h_prev = jnp.concatenate([jnp.zeros(1, x.dtype), h])  # h_{i-1}
    h_next = jnp.concatenate([h, jnp.zeros(1, x.dtype)])  # h_i
    d = jnp.where(idx == 0, h_next / 3.0, jnp.where(idx == n - 1, h_prev / 3.0, (h_prev + h_next) / 3.0))
    dl = jnp.where((idx >= 1) & (idx <= n - 1), h_prev / 6.0, 0.0)
    du = jnp.where(idx < n - 1, h_next / 6.0, 0.0)
    d = jnp.where(idx >= n, 1.0, d)
    m = tridiagonal_solve(dl, d, du, rhs)
    return m.reshape(y.shape)


def spline_integral_masked(x, y, m, n):
    """`spline_integral` over the first n (traced) points of a padded abscissa."""
    h = jnp.diff(x)
    valid = jnp.arange(h.shape[0]) < n - 1
    h = jnp.where(valid, h, 0.0).reshape((-1,) + (1,) * (y.ndim - 1))
    return jnp.sum(h * (y[1:] + y[:-1]) / 2.0 - h ** 3 * (m[1:] + m[:-1]) / 24.0, axis=0)
