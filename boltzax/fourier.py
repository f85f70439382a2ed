"""Linear matter power spectrum and sigma8 from the synchronous-gauge transfer functions.

P(k, z) = 2 pi^2 / k^3 * P_R(k) * delta(k, z)^2, with delta the comoving-gauge density contrast for
curvature_ini = 1 (CLASS fourier.c / perturbations.c normalisation) and the analytic primordial spectrum
P_R(k) = A_s (k/k_pivot)^(n_s - 1 + alpha_s/2 ln(k/k_pivot)) (CLASS primordial.c, analytic_Pk).

k sampling (`k_sampling`): a static number n_k of wavenumbers placed at equal quantiles of a physical
point density in ln k, n(ln k) = max(n_log, n_bao k r_s / (2 pi)) for k < k_bao_max, n_log beyond:
n_log points per unit ln k for smooth features, and n_bao points per period 2 pi / r_s of the baryon
acoustic oscillations (r_s the sound horizon at the drag epoch, ~147 Mpc), the only oscillatory feature
of the linear spectrum (Eisenstein & Hu 1998, astro-ph/9709112).  ln delta(ln k) is then interpolated
with a cubic spline.  sigma8 integrates P with the top-hat window of radius 8/h Mpc (CLASS fourier.c,
fourier_sigmas) on a fine log grid.
"""

from __future__ import annotations

import interpax
import jax
import jax.numpy as jnp

from .perturbations.solver import matter_transfer


def primordial_PR(params, k):
    """Dimensionless curvature power spectrum P_R(k) (CLASS primordial.c analytic_Pk, scalars)."""
    lk = jnp.log(k / params.k_pivot)
    return params.A_s * jnp.exp((params.n_s - 1.0) * lk + 0.5 * params.alpha_s * lk**2)


def k_sampling(k_min, k_max, n_k, r_s=147.0, n_log=8.0, n_bao=10.0, k_bao_max=0.6, n_fine=4096):
    """n_k wavenumbers [1/Mpc] from k_min to k_max at equal quantiles of the density described in the
    module docstring (differentiable in r_s; n_k static)."""
    x = jnp.linspace(jnp.log(k_min), jnp.log(k_max), n_fine)
    k = jnp.exp(x)
    dens = jnp.where(k < k_bao_max, jnp.maximum(n_log, n_bao * k * r_s / (2.0 * jnp.pi)), n_log)
    cum = jnp.concatenate([jnp.zeros(1), jnp.cumsum(0.5 * (dens[1:] + dens[:-1]) * jnp.diff(x))])
    q = jnp.linspace(0.0, cum[-1], n_k)
    return jnp.exp(jnp.interp(q, cum, x))


def transfer_grid(k, z, tab, prec):
    """delta_m, delta_cb (n_k, n_z) at wavenumbers k [1/Mpc] and redshifts z (any order).

    Modes are mapped sequentially (lax.map).  A vmap over k (lockstep, which the fixed-grid solver
    allows) deadlocks XLA's CPU runtime with jaxlib 0.10.2 for batches >= 4 (every worker thread
    asleep in block_until_ready; reproduced with batch_size 4, 5, 10; not with 1-3): see CHANGELOG.md."""
    z = jnp.asarray(z, dtype=float)
    order = jnp.argsort(-z)  # increasing ln a
    lna = -jnp.log1p(z[order])
    inv = jnp.argsort(order)
    f = lambda kk: matter_transfer(kk, lna, tab, prec)  # noqa: E731
    dm, dcb = jax.lax.map(f, k)
    return dm[:, inv], dcb[:, inv]


def pk_lin(params, k_out, z, tab, prec, n_k=200, k_min=1e-4, k_max=6.0, r_s=147.0):
    """Linear P(k, z) [Mpc^3] of total matter and CDM+baryons at k_out [1/Mpc] (n_out,) and z (n_z,);
    returns (P_m, P_cb) with shape (n_out, n_z) and the k grid actually solved."""
    kg = k_sampling(k_min, k_max, n_k, r_s)
    dm, dcb = transfer_grid(kg, z, tab, prec)
    lk, lko = jnp.log(kg), jnp.log(k_out)

    def spec(d):
        # interpolate ln|delta| / k^2 (smooth, order unity on all scales) in ln k
        f = jnp.log(jnp.abs(d)) - 2.0 * lk[:, None]
        fo = interpax.interp1d(lko, lk, f, method="cubic")
        tk = jnp.exp(fo + 2.0 * lko[:, None])
        return 2.0 * jnp.pi**2 / k_out[:, None] ** 3 * primordial_PR(params, k_out)[:, None] * tk**2

    return spec(dm), spec(dcb), kg


def sigma_R(params, R, pk_fun, k_min=1e-4, k_max=6.0, n=2048):
    """sigma(R) = [int dk/k k^3 P(k)/(2 pi^2) W(kR)^2]^(1/2), W the top-hat window (CLASS fourier_sigmas);
    pk_fun maps k (n,) -> P (n,).  Trapezoid in ln k on n points."""
    lk = jnp.linspace(jnp.log(k_min), jnp.log(k_max), n)
    k = jnp.exp(lk)
    x = k * R
    W = 3.0 * (jnp.sin(x) - x * jnp.cos(x)) / x**3
    f = k**3 * pk_fun(k) / (2.0 * jnp.pi**2) * W**2
    return jnp.sqrt(jnp.trapezoid(f, lk))


def sigma8(params, tab, prec, n_k=200, k_min=1e-4, k_max=6.0, r_s=147.0):
    """sigma8 of total matter at z = 0 (R = 8/h Mpc)."""
    def pk(k):
        P_m, _, _ = pk_lin(params, k, jnp.zeros(1), tab, prec, n_k, k_min, k_max, r_s)
        return P_m[:, 0]

    return sigma_R(params, 8.0 / params.h, pk, k_min, k_max)
