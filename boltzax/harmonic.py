"""Unlensed CMB spectra C_l from line-of-sight transfers (CLASS ``source/harmonic.c``), flat space, scalars.

C_l^{XY} = int dk/k 4 pi P_R(k) Delta^X_l(k) Delta^Y_l(k)   (``harmonic_compute_cl``: factor 4 pi/k, cross
spectra as (X1 Y2 + Y1 X2)/2), integrated with CLASS's spline rule (est-deriv cubic spline of the integrand in k,
``array_integrate_all_trapzd_or_spline``) on the q grid; phi-phi above l_switch_limber on the full-Limber grid.
C_l at the sampled l are then splined in l (``harmonic_cls``: est-deriv spline of C_l itself) to every l <= l_max.
Output as classy ``raw_cl``: dict of ell, tt, ee, te, bb, pp, tp, ep, dimensionless (no T_cmb^2), zero at l < 2.

`unlensed_cls` is the jitted entry point: (sources, k, tau, background numbers, primordial parameters) -> C_l.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from . import transfer as tr
from .bessel import bessel_table
from .precision import TransferPrecision
from .primordial import scalar_spectrum
from .splines import spline_d2, spline_d2_masked, spline_integral, spline_integral_masked

CL_NAMES = ("tt", "ee", "te", "bb", "pp", "tp", "ep")


@functools.lru_cache(maxsize=8)
def l_interpolation_matrix(ls: tuple[int, ...], l_max: int) -> np.ndarray:
    """(l_max + 1, n_l) matrix: CLASS's est-deriv spline through C(ls) evaluated at l = 0..l_max (rows l < 2 zero).
    Host numpy (the spline is linear in the values: its matrix is the spline of the unit vectors)."""
    x = np.asarray(ls, dtype=float)
    n = x.size
    h = np.diff(x)
    a = np.zeros((n, n))
    r = np.zeros((n, n))  # rhs = r @ y
    for i in range(1, n - 1):
        a[i, i - 1], a[i, i], a[i, i + 1] = h[i - 1] / 6.0, (h[i - 1] + h[i]) / 3.0, h[i] / 6.0
        r[i, i + 1], r[i, i], r[i, i - 1] = 1.0 / h[i], -1.0 / h[i] - 1.0 / h[i - 1], 1.0 / h[i - 1]
    eye = np.eye(n)
    dy_first = ((x[2] - x[0]) ** 2 * (eye[1] - eye[0]) - (x[1] - x[0]) ** 2 * (eye[2] - eye[0])) / (
        (x[2] - x[0]) * (x[1] - x[0]) * (x[2] - x[1]))
    dy_last = ((x[-3] - x[-1]) ** 2 * (eye[-2] - eye[-1]) - (x[-2] - x[-1]) ** 2 * (eye[-3] - eye[-1])) / (
        (x[-3] - x[-1]) * (x[-2] - x[-1]) * (x[-3] - x[-2]))
    a[0, 0], a[0, 1] = h[0] / 3.0, h[0] / 6.0
    r[0] = (eye[1] - eye[0]) / h[0] - dy_first
    a[-1, -2], a[-1, -1] = h[-1] / 6.0, h[-1] / 3.0
    r[-1] = dy_last - (eye[-1] - eye[-2]) / h[-1]
    m = np.linalg.solve(a, r)  # second derivatives = m @ y
    le = np.arange(2.0, l_max + 1.0)
    i = np.clip(np.searchsorted(x, le, side="right") - 1, 0, n - 2)
    hh = x[i + 1] - x[i]
    bb = (le - x[i]) / hh
    aa = 1.0 - bb
    out = np.zeros((le.size, n))
    rows = np.arange(le.size)
    out[rows, i] += aa
    out[rows, i + 1] += bb
    out += (((aa ** 3 - aa) * hh * hh / 6.0)[:, None] * m[i] + ((bb ** 3 - bb) * hh * hh / 6.0)[:, None] * m[i + 1])
    return np.vstack([np.zeros((2, n)), out])


def _cl_integral(k, pk, d1, d2, n=None):
    """int dk/k 4 pi P(k) d1 d2 for each row of d1, d2 (n_l, n_k): CLASS spline integral in k (first n points)."""
    integrand = (4.0 * jnp.pi * pk / k)[:, None] * (d1 * d2).T
    if n is None:
        return spline_integral(k, integrand, spline_d2(k, integrand))
    return spline_integral_masked(k, integrand, spline_d2_masked(k, integrand, n), n)


@functools.partial(jax.jit, static_argnames=("sizes", "prec"))
def cls_from_sources(sources, k, tau, tau0, tau_rec, ra_rec, tau_cut, A_s, n_s, alpha_s, k_pivot, table,
                     *, sizes: tr.GridSizes, prec: TransferPrecision):
    """Unlensed scalar C_l (raw_cl layout) from source functions; see the module docstring.

    sources: dict name -> (n_k, n_tau) for t0, t1, t2, p, phi_plus_psi; k [1/Mpc]; tau [Mpc] (last = tau0);
    tau0, tau_rec, ra_rec (comoving angular distance to recombination), tau_cut (visibility < 1e-3 of its peak,
    CLASS thermodynamics tau_cut) [Mpc]; table: ``bessel_table(...).arrays()``. Returns (cls dict, diagnostics)."""
    l_max = sizes.l_max
    ls = np.asarray(sizes.ls, dtype=float)
    s_all = jnp.stack([sources[n] for n in tr.SOURCE_NAMES], axis=-1)  # (n_k, n_tau, 5)
    q, n_q = tr.q_grid(k, tau0, tau_rec, l_max, sizes.n_q, prec)
    ql = tr.q_limber_grid(k, sizes.n_limber, prec)
    m_k = spline_d2(k, s_all)
    from .splines import spline_eval

    s_q = spline_eval(k, s_all, m_k, q)  # (n_q, n_tau, 5)
    s_ql = spline_eval(k, s_all[..., 4], m_k[..., 4], ql)  # (n_limber, n_tau)
    r = tau0 - tau
    w = tr.trapezoid_weights(r)
    d_t, d_e, ok = tr.cmb_transfers(table, sizes, prec, q, s_q[..., :4], r, w, ra_rec, tau0 - tau_cut)

    # lensing potential
    tau_l, r_l, n_eff = tr.lensing_time_grid(tau, tau0, tau_rec, sizes.n_geo, prec, l_max, sizes.n_lens)
    w_l = tr.trapezoid_weights(r_l)
    s_lens = tr.lensing_source(s_q[..., 4], tau, tau_l, r_l, tau0, tau_rec, n_eff)
    s_lens_l = tr.lensing_source(s_ql, tau, tau_l, r_l, tau0, tau_rec, n_eff)
    il_los = np.nonzero(ls <= prec.l_switch_limber)[0]
    il_lim = np.nonzero(ls > prec.l_switch_limber)[0]
    d_p_los = tr.lensing_bessel_transfers(table, sizes, prec, q, s_lens, r_l, w_l, il_los)
    lim = jax.vmap(lambda l: tr.limber_transfer(s_lens, r_l, n_eff, q, l))(jnp.asarray(ls[il_lim]))
    lim_full = jax.vmap(lambda l: tr.limber_transfer(s_lens_l, r_l, n_eff, ql, l))(jnp.asarray(ls[il_lim]))
    d_p = jnp.concatenate([d_p_los, lim], axis=0)

    pk = scalar_spectrum(q, A_s, n_s, alpha_s, k_pivot)
    pkl = scalar_spectrum(ql, A_s, n_s, alpha_s, k_pivot)
    tt = _cl_integral(q, pk, d_t, d_t, n_q)
    ee = _cl_integral(q, pk, d_e, d_e, n_q)
    te = _cl_integral(q, pk, d_t, d_e, n_q)
    tp = _cl_integral(q, pk, d_t, d_p, n_q)
    ep = _cl_integral(q, pk, d_e, d_p, n_q)
    # CLASS's Limber list stops at the last q <= k_max (transfer_get_q_limber_list); the static n_limber may pass it
    n_ql = jnp.sum(ql <= k[-1] * (1.0 + 1e-12))
    pp = jnp.concatenate([_cl_integral(q, pk, d_p_los, d_p_los, n_q), _cl_integral(ql, pkl, lim_full, lim_full, n_ql)])

    mat = jnp.asarray(l_interpolation_matrix(sizes.ls, l_max))
    out = {"ell": jnp.arange(l_max + 1)}
    for name, c in (("tt", tt), ("ee", ee), ("te", te), ("pp", pp), ("tp", tp), ("ep", ep)):
        out[name] = mat @ c
    out["bb"] = jnp.zeros(l_max + 1)
    sampled = dict(tt=tt, ee=ee, te=te, pp=pp, tp=tp, ep=ep)
    # the static sizes suffice for this cosmology: q windows and early times (ok), lensing times, and the q grid
    # passes q_max (else CLASS's list would have more points than n_q)
    grids_ok = jnp.all(ok) & (n_eff <= sizes.n_lens) & (n_q < sizes.n_q)
    return out, {"window_ok": grids_ok, "cl_sampled": sampled}


_SIZES: dict = {}  # grid sizes of recent (concrete) inputs


def unlensed_cls(sources, k, tau, tau0, tau_rec, ra_rec, tau_cut, A_s, n_s, alpha_s=0.0, k_pivot=0.05,
                 l_max: int = 2500, prec: TransferPrecision | None = None, sizes: tr.GridSizes | None = None):
    """Host-level wrapper: grid sizes from these (concrete) numbers unless given, cached Bessel table, jitted core.

    Raises CosmoSevereError if the static grid sizes were too small for this cosmology (see cls_from_sources)."""
    from .errors import CosmoSevereError

    prec = prec or TransferPrecision()
    if sizes is None:
        k_np, tau_np = np.asarray(k, dtype=float), np.asarray(tau, dtype=float)
        key = (l_max, prec, float(tau0), float(tau_rec), float(ra_rec), float(tau_cut), k_np.tobytes(),
               tau_np.tobytes())
        sizes = _SIZES.get(key)
        if sizes is None:
            sizes = tr.grid_sizes(l_max, prec, float(tau0), float(tau_rec), float(ra_rec), k_np, tau_np, float(tau_cut))
            if len(_SIZES) > 16:
                _SIZES.clear()
            _SIZES[key] = sizes
    table = bessel_table(sizes.ls, sizes.x_max, prec.hyper_sampling_flat, prec.hyper_x_min).arrays()
    cls, diag = cls_from_sources(dict(sources), jnp.asarray(k), jnp.asarray(tau), tau0, tau_rec, ra_rec, tau_cut,
                                 A_s, n_s, alpha_s, k_pivot, table, sizes=sizes, prec=prec)
    if not isinstance(diag["window_ok"], jax.core.Tracer) and not bool(diag["window_ok"]):
        raise CosmoSevereError("line-of-sight q window too narrow for this cosmology: raise "
                               "TransferPrecision.q_window_margin or size the grids with this cosmology")
    return cls
