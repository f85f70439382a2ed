"""Tensor-mode line of sight and C_l (CLASS ``transfer.c`` and ``harmonic.c``, tensor mode), flat space.

From the tensor sources t2, p (perturbations/tensors.py; (n_k, n_tau) on CLASS's tensor k list and source
times) to raw C_l^{TT, EE, TE, BB} of the tensor modes:

- sources splined in k (CLASS transfer_interpolate_sources: est-deriv spline over the tensor k list) at CLASS's
  q list (``transfer.q_grid``; shared by all modes in CLASS: with modes = t it ends at the last tensor k, with
  modes = s,t at the scalar q_max, and the tensor transfers are zero for q above the last tensor k:
  transfer_compute_for_each_q, ``if (k <= k_max)``);
- radial functions (transfer_radial_function, flat: chi = x = q (tau0 - tau), cot = csc = 1/x):
    TENSOR_TEMPERATURE_2:  sqrt(3/8 (l+2)(l+1) l (l-1)) j_l(x) / x^2             (source t2)
    TENSOR_POLARISATION_E: (j_l''(x) + 4 j_l'(x)/x + (2/x^2 - 1) j_l(x)) / 4       (source p)
    TENSOR_POLARISATION_B: (j_l'(x) + 2 j_l(x)/x) / 2                            (source p)
  with j_l from CLASS's Hermite-interpolated table (bessel.py), zero below x_cut(l), trapezoid weights in tau;
  neglected for q > l/r_a + delta_k (transfer_neglect_delta_k_T_t2 = 0.2, _T_e = 0.25, _T_b = 0.1 [1/Mpc];
  transfer_can_be_neglected) and, for E and B at l > transfer_neglect_late_source = 400, after tau_cut
  (transfer_late_source_can_be_neglected);
- C_l^{XY} = int dk/k 4 pi P_t(k) Delta^X_l Delta^Y_l, CLASS's spline integral over the q list
  (harmonic_compute_cl), P_t = A_s r (k/k_pivot)^(n_t + alpha_t/2 ln(k/k_pivot)) (primordial.tensor_spectrum);
- C_l at every l <= l_max_tensors from the l nodes by CLASS's est-deriv spline in l (harmonic_cl_at_l).  The l
  nodes are CLASS's l list built to the largest l_max of all modes, of which the tensors use the entries up to
  the first l >= l_max_tensors plus two more (transfer_get_l_list, l_size_tt).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from .bessel import hermite_j_intervals
from .primordial import tensor_spectrum
from .splines import spline_d2_masked, spline_eval, spline_integral_masked

# CLASS precisions.h: transfer_neglect_delta_k_T_t2, _T_e, _T_b [1/Mpc]
DELTA_K_T2, DELTA_K_E, DELTA_K_B = 0.2, 0.25, 0.1


def tensor_l_nodes(ls_all: tuple, l_max_tensors: int) -> tuple:
    """The tensor mode's l nodes (CLASS transfer_get_l_list, l_size_tt): entries of the shared l list up to
    the first l >= l_max_tensors, plus two more if the list has them."""
    ls = list(ls_all)
    i = 0
    while ls[i] < l_max_tensors:
        i += 1
    n = min(i + 1 + 2, len(ls))
    return tuple(ls[:n])


def tensor_transfers(table, x_min: float, dx: float, q, s_q, r, w, ra_rec, r_cut, q_last,
                     neglect_late_source: float = 400.0):
    """Delta^T, Delta^E, Delta^B (n_l, n_q) for the l nodes of ``table`` (one l at a time, lax.map).

    table: bessel arrays (``intervals`` (n_l, n_int, 8), ``ls``, ``x_cut``) for the tensor l nodes;
    s_q (n_q, n_tau, 2): t2, p at q; r = tau0 - tau (decreasing), w its trapezoid weights; r_cut = tau0 - tau_cut; q_last: the
    last tensor k (transfers zero above it)."""
    late = r < r_cut  # tau > tau_cut

    def one_l(args):
        intervals_l, l, x_cut = args
        x = q[:, None] * r[None, :]
        j0, j1, j2 = hermite_j_intervals(intervals_l, x, x_min, dx)
        wb = jnp.where(x >= x_cut, w[None, :], 0.0)
        wl = jnp.where((l > neglect_late_source) & late[None, :], 0.0, wb)
        xs = jnp.where(x > 0, x, 1.0)
        t2 = jnp.sum(s_q[..., 0] * wb * j0 / (xs * xs), axis=1)
        t2 = t2 * jnp.sqrt(3.0 / 8.0 * (l + 2.0) * (l + 1.0) * l * (l - 1.0))
        e = 0.25 * jnp.sum(s_q[..., 1] * wl * (j2 + 4.0 * j1 / xs + (2.0 / (xs * xs) - 1.0) * j0), axis=1)
        b = 0.5 * jnp.sum(s_q[..., 1] * wl * (j1 + 2.0 * j0 / xs), axis=1)
        keep = lambda dk: (q <= l / ra_rec + dk) & (q <= q_last)  # noqa: E731
        return (jnp.where(keep(DELTA_K_T2), t2, 0.0), jnp.where(keep(DELTA_K_E), e, 0.0),
                jnp.where(keep(DELTA_K_B), b, 0.0))

    return jax.lax.map(one_l, (table["intervals"], table["ls"], table["x_cut"]))


@functools.partial(jax.jit, static_argnames=("ls", "l_max_tensors", "x_min", "dx", "neglect_late_source"))
def tensor_cls(sources, k, n_k, tau, q, n_q, tau0, ra_rec, tau_cut, A_s, r, n_t, alpha_t, k_pivot, table, *,
               ls: tuple, l_max_tensors: int, x_min: float, dx: float, neglect_late_source: float = 400.0):
    """Raw tensor C_l (dict ell, tt, ee, te, bb; length l_max_tensors + 1, zero at l < 2) from the sources.

    sources: dict t2, p (n_k, n_tau) on k (static length, first n_k valid) and tau [Mpc] (last = tau0); q: the
    line-of-sight q list (first n_q valid) [1/Mpc]; tau0, ra_rec, tau_cut [Mpc]; A_s, r, n_t, alpha_t, k_pivot:
    the tensor primordial spectrum; table: ``bessel_table(ls, ...).arrays()``; ls: the tensor l nodes."""
    from .harmonic import l_interpolation_matrix
    from .transfer import trapezoid_weights

    s = jnp.stack([sources["t2"], sources["p"]], axis=-1)  # (n_k, n_tau, 2)
    m = spline_d2_masked(k, s, n_k)
    k_last = k[n_k - 1]
    # CLASS splines inside [k_0, k_last] only; q beyond gives zero transfers (masked below)
    s_q = spline_eval(k, s, m, jnp.minimum(q, k_last))
    rr = tau0 - tau
    w = trapezoid_weights(rr)
    d_t, d_e, d_b = tensor_transfers(table, x_min, dx, q, s_q, rr, w, ra_rec, tau0 - tau_cut, k_last,
                                     neglect_late_source)
    pk = tensor_spectrum(q, A_s, r, n_t, alpha_t, k_pivot)
    fac = (4.0 * jnp.pi * pk / q)[:, None]

    def integral(d1, d2):
        y = fac * (d1 * d2).T  # (n_q, n_l)
        return spline_integral_masked(q, y, spline_d2_masked(q, y, n_q), n_q)

    mat = jnp.asarray(l_interpolation_matrix(ls, l_max_tensors))
    out = {"ell": jnp.arange(l_max_tensors + 1)}
    for name, (a, b) in (("tt", (d_t, d_t)), ("ee", (d_e, d_e)), ("te", (d_t, d_e)), ("bb", (d_b, d_b))):
        out[name] = mat @ integral(a, b)
    return out


__all__ = ["tensor_cls", "tensor_l_nodes", "tensor_transfers"]
