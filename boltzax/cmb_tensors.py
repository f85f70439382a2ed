"""Tensor-mode CMB C_l end to end (CLASS modes = t, and the tensor part of modes = s,t), flat space.

``tensor_cl(res, precision, l_max_tensors, l_max_scalars=None)``: raw C_l^{TT, EE, TE, BB} of the primordial
gravitational waves (dict with classy's keys, length l_max_tensors + 1, dimensionless, zero at l < 2), from

1. the tensor sources t2, p (perturbations/tensors.py) on CLASS's tensor k list (linear steps to
   k_max_cmb = 1.8 l_max_tensors / tau0; perturbations_get_k_list) and CLASS's source times (the same as the
   scalars': perturbations_timesampling_for_sources is mode-independent; sampling.py);
2. line of sight and harmonic (transfer_tensors.py).

With ``l_max_scalars`` (modes = s,t) the l list and q list are the ones CLASS shares between the modes: the
l list is built to max(l_max_scalars, l_max_tensors) and the q list to the scalar q_max (the tensor transfers
vanish above the last tensor k); without it (modes = t) both are built from the tensors alone.

Primordial (CLASS primordial.c, input.c): A_t = r A_s, n_t and alpha_t as read by params.py (CLASS's scc
formulas by default; ``alpha_t`` may be passed, else the params' value or scc).

Static structure: ``precision``, ``l_max_tensors``, ``l_max_scalars`` static; the static sizes (tensor k count,
q count) are CLASS's counts over the sizing cosmologies of cmb.py plus margins; grids too small for a cosmology
give NaN (``grids_ok`` False).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

from .perturbations.tensors import TensorPrecision, class_tensor_k_list, solve_sources, tensor_k_grid

TENSOR_CL_KEYS = ("tt", "ee", "te", "bb")


def tensor_precision(precision) -> TensorPrecision:
    """The tensor settings of a `Precision` (``precision.tensors``; CLASS's defaults when absent)."""
    return getattr(precision, "tensors", None) or TensorPrecision()


@functools.lru_cache(maxsize=16)
def static_tensor_sizes(precision, l_max_tensors: int, l_max_scalars: int | None):
    """(n_k, n_q, ls, x_max): static tensor k count, q count, tensor l nodes and Bessel table range, from the
    sizing cosmologies (cmb.SIZING_COSMOLOGIES; host side, background + thermodynamics only)."""
    from . import transfer as tr
    from .cmb import SIZING_COSMOLOGIES, static_grid_sizes, transfer_precision
    from .l_sampling import class_angular_rescaling
    from .params import PLANCK18, from_class_dict
    from .pipeline import compute
    from .transfer_tensors import tensor_l_nodes

    tp = transfer_precision(precision)
    tn = tensor_precision(precision)
    n_ks, n_qs, ars = [], [], []
    with jax.ensure_compile_time_eval():
        for extra in SIZING_COSMOLOGIES:
            res = compute(from_class_dict({**PLANCK18, **extra})[0], precision)
            bg, th = res.background, res.thermo
            tau0, tau_rec = float(bg.conformal_age), float(th.tau_rec)
            k = class_tensor_k_list(tau0, float(th.rs_rec), float(bg.H0), l_max_tensors)
            n_ks.append(k.size)
            n_qs.append(tr._class_q_count(float(k[0]), float(k[-1]), tau0, tau_rec, tp))
            ars.append(class_angular_rescaling(float(th.ra_rec), tau0, tau_rec, float(bg.K)))
    n_k = tn.n_k or max(n_ks) + tn.n_k_margin
    if l_max_scalars is None:
        ls_all = tr.l_list(l_max_tensors, tp.l_logstep, tp.l_linstep, ars[0])
        n_q = int(math.ceil(1.03 * max(n_qs))) + 1
    else:
        sizes = static_grid_sizes(precision, int(l_max_scalars))
        ls_all = tr.l_list(max(int(l_max_scalars), l_max_tensors), tp.l_logstep, tp.l_linstep, ars[0])
        n_q = sizes.n_q
    ls = tensor_l_nodes(ls_all, l_max_tensors)
    return n_k, n_q, ls, tp.x_max_over_l_max * ls[-1]


def tensor_sources(res, precision, l_max_tensors: int, n_k: int):
    """(sources {t2, p} (n_k, n_tau), k (n_k,), n_k_eff, tau (n_tau,), ok): the tensor sources on CLASS's
    tensor k list (padded to n_k) and source times.  Jit-able; forward-differentiable through ``res``."""
    from .perturbations.sources import default_tau, thermo_at_tau
    from .pipeline import perturbation_tables

    tn = tensor_precision(precision)
    bg, th = res.background, res.thermo
    k, n_eff = tensor_k_grid(bg.conformal_age, th.rs_rec, bg.H0, l_max_tensors, n_k)
    tau = default_tau(res, precision.sources)
    tab = perturbation_tables(res, precision.perturbations)
    lna_out = tab.lna_of_tau(tau)
    aux = thermo_at_tau(res, tau)
    src, ok, _ = solve_sources(k, lna_out, aux, tab, tn)
    ok = jnp.all(ok | (jnp.arange(n_k) >= n_eff)) & (n_eff <= n_k)
    return src, k, n_eff, tau, ok


@functools.partial(jax.jit, static_argnames=("precision", "l_max_tensors", "l_max_scalars", "sizes"))
def _tensor_cl(res, table, alpha_t, precision, l_max_tensors: int, l_max_scalars, sizes):
    from . import transfer as tr
    from .cmb import source_precision_for, tau_cut, transfer_precision
    from .perturbations.sources import default_k
    from .transfer_tensors import tensor_cls

    n_k, n_q, ls, x_max = sizes
    tp = transfer_precision(precision)
    src, k, n_k_eff, tau, ok = tensor_sources(res, precision, l_max_tensors, n_k)
    bg, th, p = res.background, res.thermo, res.params
    if l_max_scalars is None:
        # modes = t: q list from the tensor k list (q_max = the last tensor k)
        q, n_q_eff = tr.q_grid(k, bg.conformal_age, th.tau_rec, l_max_tensors, n_q, tp)
    else:
        # modes = s,t: the scalar q list (CLASS transfer_get_q_list: q_max over all modes)
        ks = default_k(res, source_precision_for(precision, l_max_scalars).sources)
        q, n_q_eff = tr.q_grid(ks, bg.conformal_age, th.tau_rec, l_max_scalars, n_q, tp)
    n_int = table["intervals"].shape[1]
    dx = (x_max - tp.hyper_x_min) / n_int
    cl = tensor_cls(src, k, n_k_eff, tau, q, n_q_eff, bg.conformal_age, th.ra_rec, tau_cut(res), p.A_s, p.r,
                    p.n_t, alpha_t, p.k_pivot, table, ls=ls, l_max_tensors=l_max_tensors, x_min=tp.hyper_x_min,
                    dx=dx, neglect_late_source=tp.neglect_late_source)
    ok = ok & (n_q_eff < n_q)
    return {n: (v if n == "ell" else jnp.where(ok, v, jnp.nan)) for n, v in cl.items()}, ok


def tensor_cl(res, precision, l_max_tensors: int, l_max_scalars: int | None = None, alpha_t=None) -> dict:
    """Raw tensor C_l (module docstring): dict ell, tt, ee, te, bb of length l_max_tensors + 1 (classy
    normalisation), plus 'grids_ok'.  ``alpha_t``: tensor running (default: the params' alpha_t, CLASS's scc
    value r/8 (r/8 + n_s - 1) unless given).  Works under jit / jacfwd through ``res``."""
    from .bessel import bessel_table
    from .cmb import check_supported, transfer_precision
    from .precision import get_precision

    precision = get_precision(precision)
    check_supported(res)
    sizes = static_tensor_sizes(precision, int(l_max_tensors), None if l_max_scalars is None else int(l_max_scalars))
    tp = transfer_precision(precision)
    with jax.ensure_compile_time_eval():
        table = bessel_table(sizes[2], sizes[3], tp.hyper_sampling_flat, tp.hyper_x_min).arrays()
    table = {n: table[n] for n in ("intervals", "ls", "x_cut")}
    if alpha_t is None:
        alpha_t = res.params.alpha_t
    cl, ok = _tensor_cl(res, table, alpha_t, precision, int(l_max_tensors),
                        None if l_max_scalars is None else int(l_max_scalars), sizes)
    return dict(cl, grids_ok=ok)


__all__ = ["TENSOR_CL_KEYS", "static_tensor_sizes", "tensor_cl", "tensor_precision", "tensor_sources"]
