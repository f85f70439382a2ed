"""CLASS's default reionisation model ``reio_camb`` and the tau_reio <-> z_reio relation
(``source/thermodynamics.c``: ``thermodynamics_reionization_function``,
``thermodynamics_set_parameters_reionization``, ``thermodynamics_reionization_get_tau``).

    x_e(z) = x_before(z) + (x_after - x_before) [1 + tanh(y)]/2 + f_He [1 + tanh((z_He - z)/dz_He)]/2,
    y = [(1+z_re)^{3/2} - (1+z)^{3/2}] / [3/2 (1+z_re)^{1/2} Delta_z],

for z below z_start = max(z_re, z_He) + 8 Delta_z (CLASS reionization_start_factor = 8) and
x_e = x_before above, with x_after = 1 + f_He (H and HeI ionised), Delta_z = 0.5 (reionization_width),
z_He = 3.5, dz_He = 0.5 (helium_fullreio_redshift/width; input.c defaults), x_before the recombination
history without reionisation.

tau_reio: CLASS integrates kappa' d(tau) from today to the global minimum of x_e(z). That minimum sits
within a fraction of a unit of z below z_start (where the tanh tail, ~1e-7, meets the slowly rising
residual ionisation) or at z_start itself; the optical depth of the residual ionisation over that
interval is < 1e-5 of tau_reio, so here the integral runs to z_start, which keeps tau_reio a smooth
function of z_reio. When tau_reio is the input, z_reio is the root of tau_reio(z_reio) = tau (CLASS:
bisection on [0, 50 - 8 Delta_z]); derivatives come from the implicit function theorem.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from .. import constants as C

REIO_EXPONENT = 1.5  # reionization_exponent (input.c default)
REIO_WIDTH = 0.5  # reionization_width
HE_FULLREIO_Z = 3.5  # helium_fullreio_redshift
HE_FULLREIO_WIDTH = 0.5  # helium_fullreio_width
START_FACTOR = 8.0  # reionization_start_factor (precisions.h)
Z_START_MAX = 50.0  # reionization_z_start_max (precisions.h)
_SIGMA_MPC = C.sigma_T * C.Mpc_over_m  # sigma_T [m^2] * Mpc/m: kappa' = (1+z)^2 n_H0 x_e sigma_T [1/Mpc]


def z_start(z_reio):
    """Start of the tanh reionisation: max(z_reio, z_He) + 8 * width (width_H = width_He = 0.5)."""
    return jnp.maximum(z_reio + START_FACTOR * REIO_WIDTH, HE_FULLREIO_Z + START_FACTOR * HE_FULLREIO_WIDTH)


def xe_reio(z, x_before, z_reio, fHe, cut: bool = True):
    """x_e with reio_camb reionisation added to ``x_before`` (arrays broadcast). ``cut``: CLASS's
    x_e = x_before above z_start (a jump of ~1e-7 in x_e)."""
    n = REIO_EXPONENT
    arg = ((1.0 + z_reio) ** n - (1.0 + z) ** n) / (n * (1.0 + z_reio) ** (n - 1.0)) / REIO_WIDTH
    x_after = 1.0 + fHe
    x = (x_after - x_before) * (jnp.tanh(arg) + 1.0) / 2.0 + x_before
    x = x + fHe * (jnp.tanh((HE_FULLREIO_Z - z) / HE_FULLREIO_WIDTH) + 1.0) / 2.0
    if cut:
        x = jnp.where(z > z_start(z_reio), x_before, x)
    return x


_GL_X, _GL_W = np.polynomial.legendre.leggauss(6)


def tau_reio_of_z(z_reio, x_before_fn, H_of_z, nH0, fHe, n_panels: int = 64):
    """Reionisation optical depth int_0^{z_start} kappace'(z)/H(z) dz for a given z_reio.

    x_before_fn: z -> x_e without reionisation; H_of_z [1/Mpc]; nH0 [1/m^3]."""
    zs = z_start(z_reio)
    edges = jnp.linspace(0.0, 1.0, n_panels + 1) * zs
    mid = 0.5 * (edges[1:] + edges[:-1])
    half = 0.5 * (edges[1:] - edges[:-1])
    zq = (mid[:, None] + half[:, None] * jnp.asarray(_GL_X)[None, :]).reshape(-1)
    wq = (half[:, None] * jnp.asarray(_GL_W)[None, :]).reshape(-1)
    x = xe_reio(zq, x_before_fn(zq), z_reio, fHe, cut=False)
    kdot = (1.0 + zq) ** 2 * nH0 * _SIGMA_MPC * x
    return jnp.sum(wq * kdot / H_of_z(zq))


def root_bisect(F, data, lo, hi, n_iter: int = 60):
    """Root of F(z, data) = 0 in [lo, hi] (sign change assumed), differentiable in ``data``.

    Bisection on stop-gradient'ed data, then one Newton step z = z* - F(z*, data)/dF/dz(z*): its
    derivative is exactly the implicit-function-theorem one, -(dF/ddata)/(dF/dz)."""
    d0 = jax.lax.stop_gradient(data)
    lo = jax.lax.stop_gradient(jnp.asarray(lo, dtype=jnp.float64))
    hi = jax.lax.stop_gradient(jnp.asarray(hi, dtype=jnp.float64))

    def body(_, c):
        a, b, fa = c
        m = 0.5 * (a + b)
        fm = F(m, d0)
        same = jnp.sign(fm) == jnp.sign(fa)
        return jnp.where(same, m, a), jnp.where(same, b, m), jnp.where(same, fm, fa)

    a, b, _ = jax.lax.fori_loop(0, n_iter, body, (lo, hi, F(lo, d0)))
    zs = jax.lax.stop_gradient(0.5 * (a + b))
    dF = jax.lax.stop_gradient(jax.grad(F)(zs, d0))
    return zs - F(zs, data) / dF


def z_reio_from_tau(tau_target, x_before_fn, H_of_z, nH0, fHe, n_panels: int = 64):
    """z_reio such that tau_reio_of_z(z_reio) = tau_target, searched in [0, 50 - 8*0.5] like CLASS."""
    z_sup = Z_START_MAX - START_FACTOR * REIO_WIDTH

    def F(zr, d):
        t, nH, f = d
        return tau_reio_of_z(zr, x_before_fn, H_of_z, nH, f, n_panels) - t

    return root_bisect(F, (tau_target, nH0, fHe), 0.0, z_sup)


__all__ = ["xe_reio", "z_start", "tau_reio_of_z", "z_reio_from_tau", "root_bisect"]
_ = math
