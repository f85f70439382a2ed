"""Harmonic transfer functions Delta_l(q) by line-of-sight integration (CLASS ``source/transfer.c``), flat space.

Here "transfer" means CLASS's Delta_l(q), not the T(k) tables of fourier.py. Input: source functions
S(k, tau) on the perturbation grid (classy ``get_sources()`` layout: ``t0, t1, t2, p, phi_plus_psi``, each
(n_k, n_tau), CLASS normalisation, k [1/Mpc], tau [Mpc]). Steps, each as in transfer.c:

- l list (``transfer_get_l_list``): l = 2, then steps max(1, int(l (l_logstep - 1))) until the step reaches
  l_linstep, then steps of l_linstep, last value l_max, with CLASS's rounding (``l_list``: the linear step is 39
  when r_a/(tau0 - tau_rec) rounds below 1; CLASS's l-spline error at high l is ~1e-3 in EE, so the nodes matter).
- q grid (``transfer_get_q_list``): CLASS's recursion dq = q_period q_linstep q/(q + c),
  c = q_linstep/q_logstep_spline, q_period = 2 pi/(tau0 - tau_rec), from k_min to q_max (the first source
  k >= k_max_tau0_over_l_max l_max/tau0),
  run for a static number of steps (``grid_sizes``) and masked past q_max (splines.spline_d2_masked), so shapes are
  static under jit and the nodes are CLASS's. (A grid uniform in s = q + c ln q with the same density, i.e. the
  continuum limit of that recursion, moved low-l TT by 2.4e-4 at l = 8: CLASS's own q-sampling error there.)
- sources splined in k (``transfer_interpolate_sources``, CLASS est-deriv cubic spline over all source k).
- temperature Delta_T = sum over tau of w_trapz [S_T0 j_l + S_T1 j_l' + S_T2 (3 j_l'' + j_l)/2], polarisation
  Delta_E = sqrt(3/8 (l+2)(l+1) l (l-1)) sum w S_P j_l(x)/x^2, x = q (tau0 - tau) (``transfer_radial_function``,
  SCALAR_TEMPERATURE_0/1/2, SCALAR_POLARISATION_E), trapezoidal weights in tau (``array_trapezoidal_mweights``),
  j_l = 0 for x < x_cut(l) (``hyper_phi_min_abs``), each type 0 for q > l/r_a + delta_k_type
  (``transfer_can_be_neglected``), T1/T2/E sources dropped after tau_cut for l > neglect_late_source
  (``transfer_late_source_can_be_neglected``).
- lensing potential: source S_phi = (phi + psi) (tau_rec - tau)/((tau0 - tau)(tau0 - tau_rec)) for tau > tau_rec,
  resampled (linearly) on CLASS's lensing time grid (``transfer_sources``: the perturbation grid while its step is
  below (tau0 - tau)/30, then geometric steps to (1 - 1e-3) tau0, then tau0), Bessel integral for l <= 30 and
  Limber (``transfer_limber``: parabola through S (tau0 - tau) at tau0 - tau = (l + 1/2)/q,
  Delta = sqrt(pi/2l) (1 - 1/4l + 1/32l^2) S (tau0 - tau)/(l + 1/2)) above, on the q grid (for T-phi, E-phi) and on
  the full-Limber log grid (``transfer_get_q_limber_list``, for phi-phi).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from .bessel import hermite_j_intervals, x_min_phi
from .precision import TransferPrecision
from .splines import spline_d2, spline_eval

SOURCE_NAMES = ("t0", "t1", "t2", "p", "phi_plus_psi")


def l_list(l_max: int, l_logstep: float = 1.12, l_linstep: int = 40, angular_rescaling: float = 1.0) -> tuple[int, ...]:
    """CLASS ``transfer_get_l_list`` as a tuple (static): `l_sampling.class_l_nodes`, CLASS's float arithmetic.

    In flat space ar = r_a(rec)/(tau0 - tau_rec) is 1 up to rounding, and CLASS's linear step is 39 instead of 40
    whenever the quotient rounds below 1 (fiducial Planck 2018: 1 - 4e-16): the l nodes, hence CLASS's
    l-interpolation error, depend on that last bit, so the l list is built from the same doubles as CLASS
    (``grid_sizes``)."""
    from .l_sampling import class_l_nodes

    return tuple(int(x) for x in class_l_nodes(l_max, angular_rescaling, l_logstep, l_linstep))


@dataclasses.dataclass(frozen=True)
class GridSizes:
    """Static shapes of the line-of-sight stage (hashable: a jit static argument)."""

    l_max: int
    ls: tuple  # the l list
    n_q: int  # q grid points
    n_win: int  # q points per l in the line-of-sight window
    n_limber: int  # full-Limber q grid points
    n_geo: int  # bound on the geometric lensing time steps
    n_early: int  # bound on the number of source times tau <= tau_cut
    n_lens: int  # static length of the lensing time grid (its valid length n_eff varies with the cosmology)
    x_max: float  # Bessel table range


def q_max_of(k, tau0, l_max: int, prec: TransferPrecision):
    """CLASS q_max (flat): the first source k >= k_max_tau0_over_l_max l_max / tau0 (k_size_cl)."""
    i = jnp.clip(jnp.searchsorted(k, prec.k_max_tau0_over_l_max * l_max / tau0), 0, k.shape[0] - 1)
    return k[i]


def q_grid(k, tau0, tau_rec, l_max: int, n_q: int, prec: TransferPrecision):
    """CLASS's q list (``transfer_get_q_list``, flat) padded to a static size n_q; no gradient (numerical grid).

    q_0 = k_min, q_{i+1} = q_i + q_period q_linstep q_i/(q_i + c) while q_i < q_max, the overshoot dropped;
    q_period = 2 pi/(tau0 - tau_rec), c = q_linstep/q_logstep_spline. Returns (q, n_eff): entries >= n_eff
    continue past q_max with the last step (finite, strictly increasing; ignored downstream)."""
    k = jax.lax.stop_gradient(k)
    tau0, tau_rec = jax.lax.stop_gradient(tau0), jax.lax.stop_gradient(tau_rec)
    q_max = q_max_of(k, tau0, l_max, prec)
    q_period = 2.0 * jnp.pi / (tau0 - tau_rec)
    c = prec.q_linstep / prec.q_logstep_spline

    def step(q, _):
        qn = q + q_period * prec.q_linstep * q / (q + c)
        return qn, qn

    _, rest = jax.lax.scan(step, k[0], None, length=n_q - 1)
    q = jnp.concatenate([k[:1], rest])
    n_eff = jnp.sum(q <= q_max)
    return q, n_eff


def q_limber_grid(k, n_limber: int, prec: TransferPrecision):
    """Full-Limber q grid (``transfer_get_q_limber_list``): k_min q_logstep_limber^i, i < n_limber (static count
    from the sizing cosmology; for another cosmology the last points may pass k_max by a fraction of a step,
    where the source spline extrapolates its last cubic)."""
    k = jax.lax.stop_gradient(k)
    return k[0] * prec.q_logstep_limber ** jnp.arange(n_limber)


def _class_q_count(k_min, q_max, tau0, tau_rec, prec: TransferPrecision) -> int:
    """Number of points of CLASS's q list (its recursion, host side)."""
    q_period = 2.0 * math.pi / (tau0 - tau_rec)
    c = prec.q_linstep / prec.q_logstep_spline
    q, n = k_min, 1
    while q < q_max:
        q = q + q_period * prec.q_linstep * q / (q + c)
        n += 1
    return n if q <= q_max else n - 1


def grid_sizes(l_max: int, prec: TransferPrecision, tau0: float, tau_rec: float, ra_rec: float, k, tau,
               tau_cut: float, angular_rescaling: float | None = None) -> GridSizes:
    """Static sizes from a sizing cosmology (host numbers: tau0, tau_rec, r_a(rec), tau_cut [Mpc], the source
    grid k [1/Mpc] and tau [Mpc]).

    n_q is CLASS's q count for these numbers + 1 (room for one more point in other cosmologies); the
    line-of-sight window covers, for every l, q from x_cut(l)/(tau0 - tau_min) to l/r_a + max delta_k, times
    ``q_window_margin``.  The l list uses ``angular_rescaling`` if given (l_sampling.class_angular_rescaling),
    else ra_rec / (tau0 - tau_rec) from the given doubles (e.g. CLASS's own)."""
    k = np.asarray(k, dtype=float)
    ar = ra_rec / (tau0 - tau_rec) if angular_rescaling is None else angular_rescaling
    ls = l_list(l_max, prec.l_logstep, prec.l_linstep, ar)
    i = min(int(np.searchsorted(k, prec.k_max_tau0_over_l_max * l_max / tau0)), k.size - 1)
    q_max = float(k[i])
    n_q = _class_q_count(float(k[0]), q_max, tau0, tau_rec, prec) + 1
    q = np.asarray(jax.jit(q_grid, static_argnums=(3, 4, 5))(jnp.asarray(k), tau0, tau_rec, l_max, n_q, prec)[0])
    dmax = max(prec.delta_k_t0, prec.delta_k_t1, prec.delta_k_t2, prec.delta_k_e)
    lo = np.searchsorted(q, x_min_phi(np.asarray(ls), prec.hyper_phi_min_abs) / tau0) - 1
    hi = np.searchsorted(q, np.asarray(ls) / ra_rec + dmax)
    n_win = min(int(math.ceil(prec.q_window_margin * np.max(hi - np.maximum(lo, 0) + 1))), n_q)
    n_limber = int(math.log(k[-1] / k[0]) / math.log(prec.q_logstep_limber)) + 1
    fac = prec.cmb_lensing_sampling_factor / min(prec.l_switch_limber, l_max)
    n_geo = int(math.ceil(math.log(1.0 / prec.cmb_lensing_sampling_fraction) / -math.log(1.0 - fac))) + 2
    x_max = prec.x_max_over_l_max * l_max
    n_early = int(np.sum(np.asarray(tau) <= tau_cut)) + prec.n_early_margin
    full = np.asarray(tau).size + n_geo + 1
    n_eff = int(jax.jit(lensing_time_grid, static_argnums=(3, 4, 5, 6))(jnp.asarray(tau), tau0, tau_rec, n_geo, prec,
                                                                       l_max, full)[2])
    n_lens = min(n_eff + prec.n_early_margin, full)
    return GridSizes(l_max=l_max, ls=ls, n_q=n_q, n_win=n_win, n_limber=n_limber, n_geo=n_geo, x_max=x_max,
                     n_early=n_early, n_lens=n_lens)


def trapezoid_weights(r):
    """CLASS ``array_trapezoidal_mweights`` for a decreasing abscissa r (tau0 - tau)."""
    inner = 0.5 * (r[:-2] - r[2:])
    return jnp.concatenate([0.5 * (r[:1] - r[1:2]), inner, 0.5 * (r[-2:-1] - r[-1:])])


def sources_at(k, sources, q):
    """Spline the sources (n_k, n_tau, n_types) in k at q (CLASS transfer_interpolate_sources)."""
    m = spline_d2(k, sources)
    return spline_eval(k, sources, m, q)


def lensing_time_grid(tau, tau0, tau_rec, n_geo: int, prec: TransferPrecision, l_max: int, size: int):
    """CLASS's time sampling of the lensing source (transfer_sources, index_tt_lcmb), padded to a static size.

    Returns (tau_l, r_l, n_eff): times, tau0 - tau_l (decreasing, padded with 0 after the n_eff valid points),
    static length ``size`` (``GridSizes.n_lens``; n_eff > size means the grid was cut: see the diagnostics)."""
    n_tau = tau.shape[0]
    fac = prec.cmb_lensing_sampling_factor / min(prec.l_switch_limber, l_max)
    i_rec = jnp.searchsorted(tau, tau_rec, side="right")  # first tau > tau_rec
    idx = jnp.arange(n_tau)
    step = jnp.concatenate([jnp.zeros(1, tau.dtype), jnp.diff(tau)])
    prev = jnp.concatenate([tau[:1], tau[:-1]])
    fails = (idx >= i_rec) & ~(step < (tau0 - prev) * fac)
    i_sw = jnp.where(jnp.any(fails), jnp.argmax(fails), n_tau)  # first index failing the step condition
    n1 = i_sw - i_rec
    r_start = tau0 - tau[jnp.clip(i_sw - 1, 0, n_tau - 1)]
    m = jnp.arange(1, n_geo + 1)
    r_geo = r_start * (1.0 - fac) ** m
    # CLASS: while (tau < tau_max) {tau += (tau0 - tau) fac; store}: points up to the first r <= fraction tau0
    r_max_left = prec.cmb_lensing_sampling_fraction * tau0
    n2 = jnp.where(i_sw < n_tau, 1 + jnp.sum(r_geo > r_max_left), 0)
    j = jnp.arange(size)
    from_grid = j < n1
    r_grid = tau0 - tau[jnp.clip(i_rec + j, 0, n_tau - 1)]
    r_g = r_geo[jnp.clip(j - n1, 0, n_geo - 1)]
    r_l = jnp.where(from_grid, r_grid, jnp.where(j < n1 + n2, r_g, 0.0))
    n_eff = jnp.where(i_sw < n_tau, n1 + n2 + 1, n1)  # + the final tau0 point (r = 0)
    return tau0 - r_l, r_l, n_eff


def lensing_source(s_phi_q, tau, tau_l, r_l, tau0, tau_rec, n_eff):
    """Resample phi+psi (rows of s_phi_q on the tau grid) at tau_l (linear, CLASS transfer_source_resample)
    and multiply by the lensing window (tau_rec - tau)/((tau0 - tau)(tau0 - tau_rec)); 0 at r = 0 and padding."""
    n_tau = tau.shape[0]
    i = jnp.clip(jnp.searchsorted(tau, tau_l, side="right") - 1, 0, n_tau - 2)
    w = (tau_l - tau[i]) / (tau[i + 1] - tau[i])
    s = s_phi_q[..., i] * (1.0 - w) + s_phi_q[..., i + 1] * w
    valid = (jnp.arange(r_l.shape[0]) < n_eff - 1) & (r_l > 0)
    rescale = jnp.where(valid, (tau_rec - tau_l) / jnp.where(valid, r_l, 1.0) / (tau0 - tau_rec), 0.0)
    return s * rescale


def limber_transfer(s_lens, r_l, n_eff, q, l):
    """CLASS transfer_limber (flat, SCALAR_TEMPERATURE_0) for one l on a q grid: s_lens (n_q, n_l_tau)."""
    r_lim = (l + 0.5) / q
    size = r_l.shape[0]
    i = size - jnp.searchsorted(r_l[::-1], r_lim, side="right")  # number of r > r_lim
    i = jnp.clip(i, 1, n_eff - 2)
    qi = jnp.arange(q.shape[0])
    x1, x2, x3 = r_l[i - 1], r_l[i], r_l[i + 1]
    y1 = s_lens[qi, i - 1] * x1
    y2 = s_lens[qi, i] * x2
    y3 = jnp.where(i == n_eff - 2, y2, s_lens[qi, i + 1] * x3)
    b = ((y1 - y2) * (x3 - x2) * (x3 + x2) - (y3 - y2) * (x1 - x2) * (x1 + x2)) / (x1 - x2) / (x3 - x2) / (x3 - x1)
    a = (y1 - y2 - b * (x1 - x2)) / (x1 - x2) / (x1 + x2)
    c = y2 - b * x2 - a * x2 * x2
    s = a * r_lim * r_lim + b * r_lim + c
    iphi = jnp.sqrt(jnp.pi / (2.0 * l)) * (1.0 - 0.25 / l + 1.0 / (32.0 * l * l))
    out = iphi * s / (l + 0.5)
    return jnp.where((r_lim > r_l[0]) | (r_lim < r_l[n_eff - 1]), 0.0, out)


def cmb_transfers(table, sizes: GridSizes, prec: TransferPrecision, q, s_q, r, w, ra_rec, r_cut):
    """Delta_T, Delta_E (n_l, n_q) by line of sight, one l at a time (lax.map), each on its q window.

    table: bessel arrays (``intervals``, ``ls``, ``x_cut``); s_q: (n_q, n_tau, 4) sources t0, t1, t2, p at q;
    r = tau0 - tau, w its trapezoid weights; r_cut = tau0 - tau_cut. For l above neglect_late_source only T0
    needs the times after tau_cut: those l evaluate j_l', j_l'' and the T1, T2, E sums on the first
    ``sizes.n_early`` times only (a static bound on the count of tau <= tau_cut; masks keep the result exact).
    Returns (Delta_T, Delta_E, ok): ok is False if a q window or n_early was too small for this cosmology."""
    n_q, n_win, n_tau = q.shape[0], sizes.n_win, r.shape[0]
    n_early = min(sizes.n_early, n_tau)
    n_int = table["intervals"].shape[1]
    x_min = prec.hyper_x_min
    dx = (sizes.x_max - x_min) / n_int
    dmax = max(prec.delta_k_t0, prec.delta_k_t1, prec.delta_k_t2, prec.delta_k_e)

    dt_los = jnp.float32 if prec.los_float32 else s_q.dtype
    s_q = s_q.astype(dt_los)

    def one_l(args, split: bool):
        intervals_l, l, x_cut = args
        i0 = jnp.clip(jnp.searchsorted(q, x_cut / r[0]) - 1, 0, n_q - n_win)
        qw = jax.lax.dynamic_slice(q, (i0,), (n_win,))
        z = jnp.zeros_like(i0)
        late = (l > prec.neglect_late_source) & (r < r_cut)
        wb_all = w
        n_a = n_early if split else n_tau
        sw = jax.lax.dynamic_slice(s_q, (i0, z, z), (n_win, n_a, 4))
        x = qw[:, None] * r[None, :n_a]
        j0, j1, j2 = hermite_j_intervals(intervals_l, x, x_min, dx)
        wb = jnp.where(x >= x_cut, wb_all[None, :n_a], 0.0).astype(dt_los)
        wl = jnp.where(late[None, :n_a], 0.0, wb)
        x_safe = jnp.where(x > 0, x, 1.0).astype(dt_los)
        t0 = jnp.sum(sw[..., 0] * wb * j0, axis=1)
        t1 = jnp.sum(sw[..., 1] * wl * j1, axis=1)
        t2 = jnp.sum(sw[..., 2] * wl * (1.5 * j2 + 0.5 * j0), axis=1)
        e = jnp.sum(sw[..., 3] * wl * j0 / (x_safe * x_safe), axis=1)
        ok = (i0 + n_win >= n_q) | (qw[-1] > l / ra_rec + dmax)
        if split and n_early < n_tau:  # late times: T0 only
            s0 = jax.lax.dynamic_slice(s_q[..., 0], (i0, z + n_early), (n_win, n_tau - n_early))
            xl = qw[:, None] * r[None, n_early:]
            (jl,) = hermite_j_intervals(intervals_l, xl, x_min, dx, derivatives=0)
            t0 = t0 + jnp.sum(s0 * jnp.where(xl >= x_cut, w[None, n_early:], 0.0).astype(dt_los) * jl, axis=1)
            ok = ok & (r[n_early] < r_cut)
        t0, t1, t2, e = (v.astype(q.dtype) for v in (t0, t1, t2, e))
        e = e * jnp.sqrt(3.0 / 8.0 * (l + 2.0) * (l + 1.0) * l * (l - 1.0))
        keep = lambda dk: qw <= l / ra_rec + dk  # noqa: E731  (transfer_can_be_neglected)
        dt = (jnp.where(keep(prec.delta_k_t0), t0, 0.0) + jnp.where(keep(prec.delta_k_t1), t1, 0.0)
              + jnp.where(keep(prec.delta_k_t2), t2, 0.0))
        de = jnp.where(keep(prec.delta_k_e), e, 0.0)
        full_t = jax.lax.dynamic_update_slice(jnp.zeros(n_q, dt.dtype), dt, (i0,))
        full_e = jax.lax.dynamic_update_slice(jnp.zeros(n_q, de.dtype), de, (i0,))
        return full_t, full_e, ok

    ls = np.asarray(sizes.ls)
    n_full = int(np.sum(ls <= prec.neglect_late_source + 1))  # l that may keep the late T1/T2/E sources
    args = (table["intervals32" if prec.los_float32 else "intervals"], table["ls"], table["x_cut"])
    out_a = jax.lax.map(lambda a_: one_l(a_, False), tuple(v[:n_full] for v in args))
    out_b = jax.lax.map(lambda a_: one_l(a_, True), tuple(v[n_full:] for v in args))
    return tuple(jnp.concatenate([u, v]) for u, v in zip(out_a, out_b))


def lensing_bessel_transfers(table, sizes: GridSizes, prec: TransferPrecision, q, s_lens, r_l, w_l, il_los):
    """Delta_phi (n_los, n_q) for the l-list entries il_los (l <= l_switch_limber) by the j_l integral."""
    n_int = table["intervals"].shape[1]
    dx = (sizes.x_max - prec.hyper_x_min) / n_int

    def one_l(il):
        x_cut = table["x_cut"][il]
        x = q[:, None] * r_l[None, :]
        (j0,) = hermite_j_intervals(table["intervals"][il], x, prec.hyper_x_min, dx, derivatives=0)
        return jnp.sum(s_lens * jnp.where(x >= x_cut, w_l[None, :], 0.0) * j0, axis=1)

    return jax.lax.map(one_l, jnp.asarray(il_los))
