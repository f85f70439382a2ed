"""Status flags of the native API: what went wrong, as an integer that survives ``jit`` and ``vmap``.

`boltzax.Class` raises `CosmoComputationError` when a computation fails; the native API cannot raise inside
``jit``/``vmap``, so `pipeline.Results` and `fourier.LinearPk` carry a ``status`` field: an int32 array of bit
flags (0: everything finite and every root solve met its target).  In a vmapped batch ``status`` has the batch
shape, so a sampler can mask the failed points::

    res = jax.vmap(lambda p: boltzax.compute(p, "fast"))(batch)
    bad = res.status != 0
    print(boltzax.status.describe_status(res.status[i]))

Each flag is set by a cheap reduction of a table the pipeline computed anyway; none changes the numbers.
A failing point in a batch does not touch the others: modes and cosmologies are integrated independently,
and `where_ok` replaces a failed point's value (and its forward-mode derivative) by a finite one so that a
batched sum or a loss built from several points stays finite.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

OK = 0
NONFINITE_BACKGROUND = 1  # H(a), tau(a), growth tables not all finite
NONFINITE_THERMO = 2  # x_e, visibility, optical depth or derived thermodynamics not all finite
RECOMBINATION_RANGE = 4  # visibility maximum outside CLASS's [500, 2000] (thermodynamics.c)
ROOT_MISS = 8  # a root solve (100*theta_s -> h, tau_reio -> z_reio) did not meet its target
NONFINITE_PK = 16  # linear P(k, z) table not all finite (perturbation ODE left its valid range)
BBN_RANGE = 32  # (omega_b, N_eff at BBN) outside the BBN table: YHe clipped to the table edge

_TEXT = {
    NONFINITE_BACKGROUND: "non-finite background (H, conformal time or growth)",
    NONFINITE_THERMO: "non-finite thermodynamics (x_e, visibility, optical depth)",
    RECOMBINATION_RANGE: "recombination (maximum of the visibility) outside z = 500-2000",
    ROOT_MISS: "a root solve (100*theta_s -> h or tau_reio -> z_reio) did not converge",
    NONFINITE_PK: "non-finite linear power spectrum (a perturbation integration failed)",
    BBN_RANGE: "omega_b or N_eff outside the BBN helium table (YHe clipped; fix YHe instead)",
}
FLAGS = tuple(_TEXT)

# relative tolerances at which a root solve counts as converged (the solvers reach ~1e-10)
ROOT_RTOL = {"100*theta_s": 1e-6, "tau_reio": 1e-5}


def flag_if(cond, flag: int):
    """``flag`` where ``cond`` (a traced bool) holds, else 0 (int32)."""
    return jnp.where(cond, jnp.int32(flag), jnp.int32(0))


def all_finite(*arrays):
    """True when every entry of every array is finite (a traced bool)."""
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(jnp.asarray(a))) for a in arrays]))


def describe_status(flags) -> str:
    """Text for a status value (an int or a 0-d array): 'ok' or the failures joined by '; '."""
    f = int(np.asarray(flags))
    if f == OK:
        return "ok"
    parts = [text for bit, text in _TEXT.items() if f & bit]
    unknown = f & ~sum(_TEXT)
    if unknown:
        parts.append(f"unknown flags {unknown:#x}")
    return "; ".join(parts)


def where_ok(status, value, safe):
    """``value`` where ``status == 0``, else ``safe`` (broadcast).  In forward mode (``jax.jvp``, ``jacfwd``, what
    boltzax's solvers are built for) the failed point's derivative is then exactly 0 and finite, so a batched
    sum or a loss over several points stays finite.  In reverse mode (``grad``) a NaN partial derivative inside
    the failed computation still meets the zero cotangent (0 x NaN = NaN): there, recompute the failed points at
    safe parameters (``params = jnp.where(status == 0, params, fallback)``, the double-where rule) first."""
    ok = jnp.asarray(status) == OK
    return jnp.where(ok, value, safe)


def cosmology_summary(params) -> str:
    """The physics parameters of a `CosmoParams` in CLASS names, for error messages (host side)."""
    def num(x):
        a = np.asarray(x, dtype=float)
        return f"{float(a):.6g}" if a.ndim == 0 else "[" + ", ".join(f"{v:.6g}" for v in a.ravel()) + "]"

    items = [("h", params.h), ("omega_b", params.omega_b), ("omega_cdm", params.omega_cdm),
             ("Omega_k", params.Omega_k), ("A_s", params.A_s), ("n_s", params.n_s), ("N_ur", params.N_ur)]
    if params.reio_from_tau:
        items.append(("tau_reio", params.tau_reio))
    else:
        items.append(("z_reio", params.z_reio))
    if params.n_ncdm:
        items.append(("m_ncdm", params.m_ncdm))
    if params.has_fld:
        items += [("w0_fld", params.w0_fld), ("wa_fld", params.wa_fld)]
    if params.h_from_theta_s:
        items.append(("100*theta_s", params.theta_s_100))
    try:
        return ", ".join(f"{n} = {num(v)}" for n, v in items)
    except Exception:  # traced values (inside jit): no numbers to show
        return "(traced parameters)"
