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
    x: (n,); y: (n, ...) (trailing axes are independent columns); mode: 'natural' or 'est_deriv'."""
    x = jnp.asarray(x)
    y = jnp.asarray(y)
    n = x.shape[0]
    bshape = (n,) + (1,) * (y.ndim - 1)
    if mode == "natural":
        dd0 = jnp.zeros(y.shape[1:])
        u0 = jnp.zeros(y.shape[1:])
        qn, un = 0.0, jnp.zeros(y.shape[1:])
    elif mode == "est_deriv":
        dy_first, dy_last = _end_derivatives(x.reshape(bshape), y)
        dd0 = -0.5 * jnp.ones(y.shape[1:])
        u0 = 3.0 / (x[1] - x[0]) * ((y[1] - y[0]) / (x[1] - x[0]) - dy_first)
        qn = 0.5
        un = 3.0 / (x[-1] - x[-2]) * (dy_last - (y[-1] - y[-2]) / (x[-1] - x[-2]))
    else:
        raise ValueError(f"spline mode {mode!r}: 'natural' or 'est_deriv'")

    # forward sweep, i = 1 .. n-2
    sig = (x[1:-1] - x[:-2]) / (x[2:] - x[:-2])
    slope = (y[2:] - y[1:-1]) / (x[2:] - x[1:-1]).reshape((n - 2,) + bshape[1:]) \
        - (y[1:-1] - y[:-2]) / (x[1:-1] - x[:-2]).reshape((n - 2,) + bshape[1:])
    span = (x[2:] - x[:-2])

    def fwd(carry, inp):
        dd_prev, u_prev = carry
        s, sl, sp = inp
        p = s * dd_prev + 2.0
        dd = (s - 1.0) / p
        u = (6.0 * sl / sp - s * u_prev) / p
        return (dd, u), (dd, u)

    _, (dd_mid, u_mid) = jax.lax.scan(fwd, (dd0, u0), (sig, slope, span))
    dd_last = (un - qn * u_mid[-1]) / (qn * dd_mid[-1] + 1.0)
    dd_all = jnp.concatenate([dd0[None], dd_mid])  # (n-1, ...) coefficients
    u_all = jnp.concatenate([u0[None], u_mid])

    def bwd(dd_next, inp):
        dd_k, u_k = inp
        v = dd_k * dd_next + u_k
        return v, v

    _, out = jax.lax.scan(bwd, dd_last, (dd_all, u_all), reverse=True)
    return jnp.concatenate([out, dd_last[None]])


def _locate(x, xv):
    """Index inf with x[inf] <= xv <= x[inf+1] (clipped to the table), for increasing or decreasing x."""
    n = x.shape[0]
    inc = x[-1] > x[0]
    i_inc = jnp.searchsorted(x, xv, side="right") - 1
    i_dec = n - 1 - jnp.searchsorted(x[::-1], xv, side="left")
    i = jnp.where(inc, i_inc, i_dec)
    return jnp.clip(i, 0, n - 2)


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
