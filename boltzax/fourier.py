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

from typing import Any

import equinox as eqx
import interpax
import jax
import jax.numpy as jnp

from .perturbations.solver import matter_transfer, matter_transfer_and_growth, transfers


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

    All modes are integrated in lockstep (the fixed-step solver is batched over k, the batch being the
    trailing, vectorised axis of every array in the integrator: perturbations/linear_esdirk.py)."""
    z = jnp.asarray(z, dtype=float)
    order = jnp.argsort(-z)  # increasing ln a
    lna = -jnp.log1p(z[order])
    inv = jnp.argsort(order)
    dm, dcb = map_modes(lambda kk: matter_transfer(kk, lna, tab, prec), k)
    return dm[:, inv], dcb[:, inv]


def map_modes(fn, k):
    """fn(k) for every wavenumber of k, all modes in lockstep (fn accepts an array of wavenumbers)."""
    return fn(jnp.atleast_1d(jnp.asarray(k, dtype=float)))


def growth_grid(k, z, tab, prec):
    """delta_m, delta_cb, f_m, f_cb (each (n_k, n_z)) at wavenumbers k [1/Mpc] and redshifts z (any order):
    the matter contrasts and their scale-dependent growth rates d ln delta / d ln a."""
    z = jnp.asarray(z, dtype=float)
    order = jnp.argsort(-z)  # increasing ln a
    lna = -jnp.log1p(z[order])
    inv = jnp.argsort(order)
    out = map_modes(lambda kk: matter_transfer_and_growth(kk, lna, tab, prec), k)
    return tuple(o[:, inv] for o in out)


def transfer_table(k, z, tab, prec):
    """CLASS's synchronous-gauge transfer functions (perturbations.outputs) at wavenumbers k [1/Mpc] and one
    redshift z: dict of arrays (n_k,) (d_ncdm, t_ncdm: (n_k, n_ncdm))."""
    lna = -jnp.log1p(jnp.atleast_1d(jnp.asarray(z, dtype=float)))
    out = map_modes(lambda kk: transfers(kk, lna, tab, prec), k)
    return jax.tree_util.tree_map(lambda v: v[:, 0], out)


@jax.jit
def _interp_kz(tab, k_nodes, z_nodes, k, z, f_tab=None):
    """A (len(k_nodes), len(z_nodes)) table at (k, z), shape (len(k), len(z)).  One jitted program (an eager
    classy scalar call such as pk_lin(k, z) is one dispatch, not one per operation: 15 ms -> a few ms).

    In ln k: the C2 cubic spline (interpax "cubic2", not-a-knot ends).  The Hermite cubic with
    finite-difference slopes ("cubic") is O(h^3) and left 4-7e-4 in P(k) between the BAO-scale nodes
    (lcdm_7: 6.5e-4 at k = 0.035 /Mpc); the C2 spline's O(h^4) error there is 2.5e-4 on the same nodes
    (session 9, against CLASS's P(k) at its own k).
    In z: with ``f_tab`` given (the growth rate f = d ln delta / d ln a at the nodes, exact from the
    equations: perturbations.solver._with_growth) and ``tab`` = ln(delta^2 / k^4), a Hermite cubic in
    ln(1 + z) with the exact slopes d tab / d ln(1 + z) = -2 f; otherwise a cubic in z."""
    lk, lkn = jnp.log(k), jnp.log(k_nodes)
    fk = interpax.interp1d(lk, lkn, tab, method="cubic2")  # (n, n_z)
    if z_nodes.shape[0] == 1:
        return jnp.broadcast_to(fk, (k.shape[0], z.shape[0]))
    if f_tab is None:
        return jax.vmap(lambda row: interpax.interp1d(z, z_nodes, row, method="cubic"))(fk)
    gk = interpax.interp1d(lk, lkn, f_tab, method="cubic2")
    xq, xn = jnp.log1p(z), jnp.log1p(z_nodes)
    return jax.vmap(lambda row, f: interpax.interp1d(xq, xn, row, method="cubic", fx=-2.0 * f))(fk, gk)


@jax.jit
def _interp_pk_table(tab, k_nodes, z_nodes, params, k, z, f_tab=None):
    """P(k, z) [Mpc^3] (len(k), len(z)) from a ln(delta^2 / k^4) table on (k_nodes, z_nodes) (and its growth
    rate table f_tab, see `_interp_kz`), times the primordial spectrum."""
    t2 = jnp.exp(_interp_kz(tab, k_nodes, z_nodes, k, z, f_tab)) * k[:, None] ** 4
    return 2.0 * jnp.pi**2 / k[:, None] ** 3 * primordial_PR(params, k)[:, None] * t2


class LinearPk(eqx.Module):
    """Linear P(k, z) tables: ln P of total matter and of CDM+baryons on the solved k grid and z nodes.

    Between k nodes, ln(T(k)/k^2) is interpolated with a C2 cubic spline in ln k (T the transfer function: smooth and
    of order unity on all scales), and P is rebuilt with the analytic primordial spectrum; between z nodes
    ln P is a Hermite cubic in ln(1 + z) with the exact slopes -2 f from the growth rates (CLASS interpolates
    its P(k, tau) table in tau with splines).  See `_interp_kz`."""

    k: jax.Array  # (n_k,) [1/Mpc]
    z: jax.Array  # (n_z,) increasing
    ln_T2_m: jax.Array  # (n_k, n_z) ln(delta_m^2 / k^4)
    ln_T2_cb: jax.Array
    params: Any
    f_m: Any = None  # (n_k, n_z) scale-dependent growth rate d ln delta_m / d ln a
    f_cb: Any = None
    status: Any = None  # int32 bit flags (boltzax.status): NONFINITE_PK, plus the cosmology's own flags

    def _interp(self, tab, f_tab, k, z):
        k = jnp.atleast_1d(jnp.asarray(k, dtype=float))
        z = jnp.atleast_1d(jnp.asarray(z, dtype=float))
        return _interp_pk_table(tab, self.k, self.z, self.params, k, z, f_tab)

    def pk_m(self, k, z):
        """Linear total-matter P(k, z) [Mpc^3], shape (len(k), len(z))."""
        return self._interp(self.ln_T2_m, self.f_m, k, z)

    def pk_cb(self, k, z):
        """Linear CDM+baryon P(k, z) [Mpc^3], shape (len(k), len(z))."""
        return self._interp(self.ln_T2_cb, self.f_cb, k, z)

    def growth_rate(self, k, z, cb=False):
        """Scale-dependent growth rate f(k, z) = d ln delta / d ln a of total matter (or cb), shape
        (len(k), len(z)); cubic in ln k and z between the solved nodes (CLASS
        scale_dependent_growth_factor_f)."""
        k = jnp.atleast_1d(jnp.asarray(k, dtype=float))
        z = jnp.atleast_1d(jnp.asarray(z, dtype=float))
        return _interp_kz(self.f_cb if cb else self.f_m, self.k, self.z, k, z)

    def sigma(self, R, z=0.0, cb=False):
        """sigma(R, z) of total matter (or cb) [R in Mpc] (CLASS fourier_sigmas: top-hat window)."""
        f = self.pk_cb if cb else self.pk_m
        return sigma_R(self.params, R, lambda kk: f(kk, jnp.atleast_1d(z))[:, 0], self.k[0], self.k[-1])


def linear_pk(params, tab, prec, z_nodes, n_k=200, k_min=1e-4, k_max=6.0, r_s=147.0) -> LinearPk:
    """Solve the perturbations on n_k wavenumbers (`k_sampling`) and tabulate P_m, P_cb at z_nodes
    (increasing, static tuple or array)."""
    kg = k_sampling(k_min, k_max, n_k, r_s)
    z = jnp.asarray(z_nodes, dtype=float)
    dm, dcb, fm, fcb = growth_grid(kg, z, tab, prec)
    from . import status as st

    k4 = kg[:, None] ** 4
    ln_m, ln_cb = jnp.log(dm**2 / k4), jnp.log(dcb**2 / k4)
    flags = st.flag_if(~st.all_finite(ln_m, ln_cb, fm, fcb), st.NONFINITE_PK)
    return LinearPk(k=kg, z=z, ln_T2_m=ln_m, ln_T2_cb=ln_cb, params=params, f_m=fm, f_cb=fcb, status=flags)


def sigma_R(params, R, pk_fun, k_min=1e-4, k_max=6.0, n=2048):
    """sigma(R) = [int dk/k k^3 P(k)/(2 pi^2) W(kR)^2]^(1/2), W the top-hat window (CLASS fourier_sigmas);
    pk_fun maps k (n,) -> P (n,).  Trapezoid in ln k on n points."""
    lk = jnp.linspace(jnp.log(k_min), jnp.log(k_max), n)
    k = jnp.exp(lk)
    x = k * R
    W = 3.0 * (jnp.sin(x) - x * jnp.cos(x)) / x**3
    f = k**3 * pk_fun(k) / (2.0 * jnp.pi**2) * W**2
    return jnp.sqrt(jnp.trapezoid(f, lk))
