"""The native JAX front door: a pure function from `CosmoParams` to a pytree of results.

``compute(params, precision)`` runs background -> thermodynamics (later: perturbations, spectra) and
returns `Results`. It works under ``jit`` (precision is static), ``grad``, ``jacfwd`` and ``vmap`` over
params that share static structure (same number of ncdm species, same closure, same input choices).

When ``params.h_from_theta_s`` the Hubble rate is the root of 100*theta_s(h) = params.theta_s_100, found with
optimistix; its derivatives come from the implicit-function theorem (optimistix.ImplicitAdjoint), not
from differentiating the iterations. CLASS does the same shooting in ``input.c`` (input_try_unknown_parameters).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import optimistix as optx

from . import aot
from .background import Background, background_solve
from .fourier import k_sampling, linear_pk, transfer_table
from .perturbations import tables_from_boltzax
from .params import CosmoParams
from .precision import Precision, get_precision
from .thermo.thermodynamics import Thermo, thermodynamics_solve


class Results(eqx.Module):
    """Everything computed for one cosmology. ``params`` has the solved h (and z_reio/tau_reio)."""

    params: CosmoParams
    background: Background
    thermo: Any  # Thermo, or None when only the background was requested
    status: Any = None  # int32 bit flags (boltzax.status; 0: all finite, roots met), batch-shaped under vmap


def results_status(given: CosmoParams, params: CosmoParams, bg: Background, th) -> jax.Array:
    """`boltzax.status` flags of a computed cosmology (traced; cheap reductions of the computed tables).
    ``given``: the input parameters (the root-solve targets), ``params``: the solved ones."""
    from . import status as st
    from .thermo.bbn import NEFF_REF, _tables, neff_at_bbn

    flags = st.flag_if(~st.all_finite(bg.H_table), st.NONFINITE_BACKGROUND)
    if th is None:
        return flags
    flags |= st.flag_if(~st.all_finite(th.x_e, th.g, th.kappa, th.T_b, th.theta_s_100, th.rs_d, th.z_rec),
                        st.NONFINITE_THERMO)
    flags |= st.flag_if(~((th.z_rec > 500.0) & (th.z_rec < 2000.0)), st.RECOMBINATION_RANGE)
    miss = jnp.zeros((), bool)
    if given.h_from_theta_s:
        tol = st.ROOT_RTOL["100*theta_s"] * jnp.abs(given.theta_s_100)
        miss |= ~(jnp.abs(th.theta_s_100 - given.theta_s_100) <= tol)
    if given.reio_from_tau and given.reionization == "camb":
        miss |= ~(jnp.abs(th.tau_reio - given.tau_reio) <= st.ROOT_RTOL["tau_reio"] * jnp.abs(given.tau_reio))
    flags |= st.flag_if(miss, st.ROOT_MISS)
    if given.YHe_from_bbn:
        ob, dn, _, _ = _tables()
        dN = neff_at_bbn(given) - NEFF_REF
        inside = (given.omega_b >= ob[0]) & (given.omega_b <= ob[-1]) & (dN >= dn[0]) & (dN <= dn[-1])
        flags |= st.flag_if(~inside, st.BBN_RANGE)
    return flags


def _theta_s_100(h, params: CosmoParams, prec: Precision):
    p = params.replace(h=h)
    bg = background_solve(p, prec.background)
    th = thermodynamics_solve(p, bg, prec.thermo)
    return th.theta_s_100


def solve_h_from_theta_s(params: CosmoParams, prec: Precision):
    """h such that CLASS's 100*theta_s (sound horizon over angular distance at the visibility peak) equals
    ``params.theta_s_100``. Newton iterations on h; gradient by the implicit-function theorem."""

    def residual(h, args):
        return _theta_s_100(h, args, prec) - args.theta_s_100

    # Start from the fiducial-scaling guess h ~ 0.6736 (theta/1.04110)^{~1/0.2}: a mild nonlinearity,
    # Newton converges from any h in [0.5, 0.9] in a few steps.
    h0 = 0.6736 * (params.theta_s_100 / 1.04110) ** 5.0
    solver = optx.Newton(rtol=1e-12, atol=1e-12)
    sol = optx.root_find(residual, solver, h0, args=params, max_steps=30, throw=False)
    return sol.value


@functools.partial(jax.jit, static_argnames=("precision", "with_thermo"))
def _compute(params: CosmoParams, precision: Precision, with_thermo: bool = True) -> Results:
    given = params
    if params.h_from_theta_s:
        params = params.replace(h=solve_h_from_theta_s(params, precision))
    bg = background_solve(params, precision.background)
    th = thermodynamics_solve(params, bg, precision.thermo) if with_thermo else None
    if th is not None:
        params = params.replace(tau_reio=th.tau_reio, z_reio=th.z_reio, YHe=th.YHe)
    return Results(params=params, background=bg, thermo=th, status=results_status(given, params, bg, th))


def compute(params: CosmoParams, precision: "str | Precision | None" = None, *, thermo: bool = True) -> Results:
    """Background and thermodynamics for ``params`` (a `CosmoParams`), jitted.

    ``precision``: a preset name (``"fast"``, ``"default"``, ``"high"``) or a `Precision`.
    Set ``thermo=False`` for the background alone (then ``h`` cannot come from ``100*theta_s``).
    No range checks happen here (params built by `from_class_dict` are checked there): a failure inside the
    computation sets bits of ``Results.status`` (`boltzax.status`; 0 = finite tables and root solves met).
    """
    prec = get_precision(precision)
    if params.h_from_theta_s and not thermo:
        from .errors import CosmoSevereError

        raise CosmoSevereError("'100*theta_s' as input needs the thermodynamics (thermo=True)")
    out = aot.call("compute", lambda p: _compute(p, prec, thermo), (params,), repr((prec, thermo)))
    return _compute(params, prec, thermo) if out is None else out


def linear_power(res: Results, precision: Precision, z_nodes: tuple, k_max: float = 1.0):
    """Linear P(k, z) tables (`fourier.LinearPk`) for computed ``res``: the perturbations solved on
    ``precision.pk_n_k`` wavenumbers from ``precision.pk_k_min`` to ``k_max`` [1/Mpc], tabulated at the
    increasing redshifts ``z_nodes`` (static tuple).  Pure and differentiable in ``res`` (the BAO-aware k
    sampling follows the computed r_s(z_drag)).  Jitted; an eager call runs a stored program (`aot`)."""
    z_nodes = tuple(z_nodes)
    out = aot.call("linear_power", lambda r, km: _linear_power(r, precision, z_nodes, km), (res, k_max),
                   repr((precision, z_nodes)))
    return _linear_power(res, precision, z_nodes, k_max) if out is None else out


@functools.partial(jax.jit, static_argnames=("precision", "z_nodes"))
def _linear_power(res: Results, precision: Precision, z_nodes: tuple, k_max: float = 1.0):
    pp = precision.perturbations
    tab = perturbation_tables(res, pp)
    lp = linear_pk(res.params, tab, pp, z_nodes, n_k=precision.pk_n_k, k_min=pk_k_min(res, precision),
                   k_max=k_max, r_s=res.thermo.rs_d)
    if res.status is not None:
        lp = dataclasses.replace(lp, status=lp.status | res.status)
    return lp


def pk_k_min(res: Results, precision: Precision):
    """Smallest solved wavenumber [1/Mpc]: ``precision.pk_k_min``, or in a closed universe (K > 0) CLASS's
    first scalar mode k = sqrt((8 - 1e-4) K) when that is larger (perturbations.c, perturbations_get_k_list:
    q = sqrt(k^2 + K) >= 3 sqrt(K), the lowest multipole l = 2 of the curved harmonics; below it there are
    no modes to solve)."""
    K = res.background.K
    # where, not maximum: the sqrt's derivative at K <= 0 would be inf x 0 = NaN in forward mode
    k_closed = jnp.sqrt(jnp.where(K > 0, (8.0 - 1e-4) * K, 1.0))
    return jnp.where((K > 0) & (k_closed > precision.pk_k_min), k_closed, precision.pk_k_min)


def perturbation_tables(res: Results, pp):
    """The `PertTables` the perturbation equations read, from computed ``res`` (PerturbationPrecision pp)."""
    return tables_from_boltzax(res.background, res.thermo, pp, None, res.params.cs2_fld)


@functools.partial(jax.jit, static_argnames=("precision",))
def transfer_functions(res: Results, precision: Precision, z, k_max: float = 1.0):
    """CLASS's synchronous-gauge transfer functions at redshift z (classy get_transfer; normalised to
    curvature_ini = 1, i.e. eta -> 1 on super-horizon scales) on ``precision.pk_n_k`` wavenumbers from
    ``precision.pk_k_min`` to k_max [1/Mpc] (the P(k) sampling).  Returns (k [1/Mpc], dict of arrays)."""
    pp = precision.perturbations
    kg = k_sampling(pk_k_min(res, precision), k_max, precision.pk_n_k, res.thermo.rs_d)
    return kg, transfer_table(kg, z, perturbation_tables(res, pp), pp)


__all__ = ["Results", "compute", "linear_power", "perturbation_tables", "pk_k_min", "results_status", "solve_h_from_theta_s", "Thermo",
           "transfer_functions"]
