"""Primordial spectra (CLASS ``source/primordial.c``, ``analytic_Pk`` mode), dimensionless.

Curvature perturbation (adiabatic scalars), ``primordial_analytic_spectrum``:

    P_R(k) = A_s exp[(n_s - 1) ln(k/k_pivot) + alpha_s/2 ln^2(k/k_pivot)]

Tensors (``index_ic_ten``: amplitude r A_s, tilt n_t + 1, running alpha_t):

    P_t(k) = r A_s exp[n_t ln(k/k_pivot) + alpha_t/2 ln^2(k/k_pivot)]

with CLASS's single-field slow-roll consistency defaults (``input.c``, ``n_t = scc``, ``alpha_t = scc``):
n_t = -r/8 (2 - r/8 - n_s), alpha_t = r/8 (r/8 + n_s - 1). k in 1/Mpc.
CLASS tabulates ln P on a ln k grid and splines it; for these analytic forms (at most quadratic in ln k) the
spline reproduces the formula, so the formula is evaluated directly.
"""

from __future__ import annotations

import jax.numpy as jnp


def scalar_spectrum(k, A_s, n_s, alpha_s=0.0, k_pivot=0.05):
    """P_R(k), dimensionless (CLASS ``primordial_analytic_spectrum``, adiabatic mode)."""
    lnk = jnp.log(k / k_pivot)
    return A_s * jnp.exp((n_s - 1.0) * lnk + 0.5 * alpha_s * lnk * lnk)


def tensor_tilt_scc(r, n_s):
    """n_t from single-field slow-roll consistency to second order (CLASS input.c, ``n_t = scc``)."""
    return -r / 8.0 * (2.0 - r / 8.0 - n_s)


def tensor_running_scc(r, n_s):
    """alpha_t from single-field slow-roll consistency (CLASS input.c, ``alpha_t = scc``)."""
    return r / 8.0 * (r / 8.0 + n_s - 1.0)


def tensor_spectrum(k, A_s, r, n_t, alpha_t=0.0, k_pivot=0.05):
    """P_t(k) = r A_s (k/k_pivot)^(n_t + alpha_t/2 ln(k/k_pivot)), dimensionless (CLASS tensor mode)."""
    lnk = jnp.log(k / k_pivot)
    return r * A_s * jnp.exp(n_t * lnk + 0.5 * alpha_t * lnk * lnk)


def scalar_spectrum_of(params, k):
    """P_R(k) from a ``CosmoParams`` (fields A_s, n_s, alpha_s, k_pivot)."""
    return scalar_spectrum(k, params.A_s, params.n_s, params.alpha_s, params.k_pivot)


def tensor_spectrum_of(params, k, alpha_t=None):
    """P_t(k) from a ``CosmoParams`` (r, n_t as read by params.py; alpha_t = scc unless given)."""
    if alpha_t is None:
        alpha_t = tensor_running_scc(params.r, params.n_s)
    return tensor_spectrum(k, params.A_s, params.r, params.n_t, alpha_t, params.k_pivot)
