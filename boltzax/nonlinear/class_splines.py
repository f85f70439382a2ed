"""CLASS's 1-d cubic-spline tools (``tools/arrays.c``) in JAX, as HMcode (``external/HMcode/hmcode.c``) and
``fourier.c`` use them.  The exact algorithms matter at the 1e-6 level: CLASS's splines are not "a cubic
spline" but two specific ones, chosen by ``spline_mode``:

* ``natural`` (``_SPLINE_NATURAL_``): second derivative zero at both ends;
* ``est_deriv`` (``_SPLINE_EST_DERIV_``): the first derivative at each end estimated from the parabola
  through the three end points (array_spline: ``dy_first`` / ``dy_last``), imposed as a clamped end.

``second_derivatives`` is array_spline / array_spline_table_columns (the tridiagonal sweep written as a
``lax.scan`` over the nodes; y may carry trailing batch axes), ``evaluate`` is array_interpolate_spline /
array_spline_eval (the interval found by bisection, as array_spline_hunt), ``integrate`` is
array_integrate_all_trapzd_or_spline (trapezoid before ``start_spline``, the exact spline integral after),
``cumulative`` is array_integrate_spline_table_line_to_line, ``integral_weights`` the weights w with
integrate(x, y) = sum_i w_i y_i (the integral is linear in y), ``interp_linear`` is
array_interpolate_two_arrays_one_column.  All shapes static; x strictly monotonic.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def _end_derivatives(x, y):
    """CLASS's estimated end slopes (array_spline, _SPLINE_EST_DERIV_): the parabola through the first
    (last) three points.  y has the node axis first."""
    d1, d2 = x[1] - x[0], x[2] - x[0]
    dy_first = (d2 * d2 * (y[1] - y[0]) - d1 * d1 * (y[2] - y[0])) / (d2 * d1 * (x[2] - x[1]))
    e3, e2 = x[-3] - x[-1], x[-2] - x[-1]
    dy_last = (e3 * e3 * (y[-2] - y[-1]) - e2 * e2 * (y[-3] - y[-1])) / (e3 * e2 * (x[-3] - x[-2]))
    return dy_first, dy_last


def second_derivatives(x, y, mode: str = "est_deriv"):
    """Second derivatives ddy (same shape as y) of CLASS's cubic spline through (x_i, y_i) (array_spline).
    x: (n,) increasing; y: (n, ...) (trailing axes are independent columns); mode: 'natural' or 'est_deriv'.

    array_spline's sweep solves the tridiagonal system of the spline's continuity conditions,
    h_{i-1} M_{i-1} + 2 (h_{i-1} + h_i) M_i + h_i M_{i+1} = 6 [(y_{i+1} - y_i) / h_i - (y_i - y_{i-1}) / h_{i-1}],
    closed by M_0 = M_{n-1} = 0 (natural) or by the clamped-end rows 2 M_0 + M_1 = 6 / h_0 ((y_1 - y_0) / h_0 -
    y'_0), M_{n-2} + 2 M_{n-1} = 6 / h_{n-2} (y'_{n-1} - (y_{n-1} - y_{n-2}) / h_{n-2}) with CLASS's estimated
    end slopes (its u[0] = 3/h_0 (...), ddy[0] = -1/2 and qn = 1/2, un = 3/h (...) are these rows divided by
    2 h); here the same system goes to LAPACK's tridiagonal solver (same numbers to rounding)."""
    x = jnp.asarray(x)
    y = jnp.asarray(y)
    n = x.shape[0]
    y2 = y.reshape(n, -1)
    h = x[1:] - x[:-1]
    slope = (y2[1:] - y2[:-1]) / h[:, None]
    mid = 6.0 * (slope[1:] - slope[:-1])
    one, zero = jnp.ones(1), jnp.zeros(1)
    if mode == "natural":
        d = jnp.concatenate([one, 2.0 * (h[:-1] + h[1:]), one])
        dl = jnp.concatenate([zero, h[:-1], zero])
        du = jnp.concatenate([zero, h[1:], zero])
        rhs = jnp.concatenate([jnp.zeros_like(y2[:1]), mid, jnp.zeros_like(y2[:1])])
    elif mode == "est_deriv":
        dy_first, dy_last = _end_derivatives(x[:, None], y2)
        d = jnp.concatenate([2.0 * one, 2.0 * (h[:-1] + h[1:]), 2.0 * one])
        dl = jnp.concatenate([zero, h[:-1], one])
        du = jnp.concatenate([one, h[1:], zero])
        r0 = 6.0 / h[0] * (slope[0] - dy_first)
        rn = 6.0 / h[-1] * (dy_last - slope[-1])
        rhs = jnp.concatenate([r0[None], mid, rn[None]])
    else:
        raise ValueError(f"spline mode {mode!r}: 'natural' or 'est_deriv'")
    return jax.lax.linalg.tridiagonal_solve(dl, d, du, rhs).reshape(y.shape)


def _locate(x, xv):
    """Index inf with x[inf] <= xv <= x[inf+1] (clipped to the table), x increasing (array_spline_hunt's
    bracket; 'compare_all' search: no loop in the compiled program)."""
    i = jnp.searchsorted(x, xv, side="right", method="compare_all") - 1
    return jnp.clip(i, 0, x.shape[0] - 2)


def evaluate(x, y, ddy, xv):
    """CLASS's spline value at xv (any shape; y, ddy of shape (n,)): array_spline_eval on the interval
    containing xv (array_interpolate_spline / array_spline_hunt)."""
    x, y, ddy, xv = jnp.asarray(x), jnp.asarray(y), jnp.asarray(ddy), jnp.asarray(xv)
    i = _locate(x, xv)
    h = x[i + 1] - x[i]
    b = (xv - x[i]) / h
    a = 1.0 - b
    return a * y[i] + b * y[i + 1] + ((a**3 - a) * ddy[i] + (b**3 - b) * ddy[i + 1]) * h * h / 6.0


def integrate(x, y, ddy, start_spline: int = 0):
    """array_integrate_all_trapzd_or_spline: trapezoid on intervals i < start_spline, the exact spline
    integral (h (y_i + y_i+1) / 2 - h^3 (ddy_i + ddy_i+1) / 24) after.  y, ddy: (n, ...)."""
    n = x.shape[0]
    h = (x[1:] - x[:-1]).reshape((n - 1,) + (1,) * (y.ndim - 1))
    trap = (y[:-1] + y[1:]) * h / 2.0
    corr = (ddy[:-1] + ddy[1:]) * h**3 / 24.0
    use_spline = (jnp.arange(n - 1) >= start_spline).reshape(h.shape)
    return jnp.sum(jnp.where(use_spline, trap - corr, trap), axis=0)


def cumulative(x, y, ddy):
    """array_integrate_spline_table_line_to_line: int_{x_0}^{x_i} of the spline, i = 0 .. n-1."""
    h = x[1:] - x[:-1]
    seg = (y[:-1] + y[1:]) * h / 2.0 - (ddy[:-1] + ddy[1:]) * h**3 / 24.0
    return jnp.concatenate([jnp.zeros(1), jnp.cumsum(seg)])


def integral_weights(x, mode: str = "est_deriv"):
    """Weights w (n,) with sum_i w_i y_i = integrate(x, y, second_derivatives(x, y, mode)) for every y
    (the spline integral is linear in y; the weights are its gradient)."""
    return jax.grad(lambda y: integrate(x, y, second_derivatives(x, y, mode)))(jnp.zeros_like(x))


def interp_linear(x, y, xv):
    """array_interpolate_two_arrays_one_column: linear interpolation in a monotonic table x (bisection)."""
    x, y = jnp.asarray(x), jnp.asarray(y)
    i = _locate(x, xv)
    w = (xv - x[i]) / (x[i + 1] - x[i])
    return y[i] * (1.0 - w) + w * y[i + 1]
