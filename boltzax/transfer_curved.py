"""Curved-space (K != 0) scalar line of sight, T and E: host-side (numpy) prototype of CLASS ``transfer.c``.

NOT jitted and not differentiable: a loop over q on the host, one `HyperTable` per nu. It exists to check the
hyperspherical tables and CLASS's curved-space rules against CLASS's own C_l; the jitted flat pipeline
(boltzax/transfer.py) has not been extended yet. CLASS rules reproduced (all from ``transfer.c``):

- q list (``transfer_get_q_list``, sgnK != 0): q_period = 2 pi ar/(tau0 - tau_rec), ar = r_a(rec)/(tau0 - tau_rec)
  (``angular_rescaling``), q_logstep_spline / ar^q_logstep_open; open: q_min = sqrt(k_min^2 + K),
  q_max = sqrt(k_max^2 + K); closed: q = nu sqrt(K) with integer nu from 3, steps from q_logstep_trapzd, at least
  delta nu = 1, until nu >= hyper_flat_approximation_nu, then non-integer steps blending into the open-case rule
  over q_numstep_transition steps; q_max = k_max. index_q_flat_approximation: first q > 4000 sqrt|K|.
- k = sqrt(q^2 - K) (scalars, ``transfer_get_k_list``); sources splined in k.
- chi = sqrt|K| (tau0 - tau), nu = q/sqrt|K|; radial functions (``transfer_radial_function``):
  T0: Phi;  T1: sqrt|K|/k Phi';  T2: (3 |K|/k^2 Phi'' + Phi)/(2 sqrt(1 - 3K/k^2));
  E: sqrt(3/8 (l+2)(l+1)l(l-1))/sqrt(1 - 3K/k^2) (sqrt|K|/(k sin_K chi))^2 Phi.
- Phi from the HyperTable (quintic Hermite) for q below the flat approximation; above it, from the flat j_l table
  at x = chi sqrt(l(l+1))/chi_tp (chi_tp the turning point), times CLASS's amplitude rescaling
  (``rescale_function``, CLASS's own fitted coefficients).
- cut: chi < chi_at_phimin(l) (flat approximation: the flat x_min times chi_tp/sqrt(l(l+1))); closed: l >= nu -> 0;
  neglect l < (q - delta_k) r_a; late T1/T2/E sources dropped for l > neglect_late_source ar
  (``transfer_late_source_can_be_neglected``).
- C_l = int dk/k 4 pi P(k) Delta Delta on the k = sqrt(q^2 - K) grid (``harmonic_compute_cl``), est-deriv spline
  rule; closed: trapezoid below the flat-approximation index, plus CLASS's first-point correction
  integrand(q_min) q_min/k_min sqrt(K)/2.

Measured against CLASS's raw_cl from its own sources (tools/curved_los_check.py, l <= 2500):
ok_pos (open, Omega_k = 0.03): TT <= 1.6e-5, EE <= 7.9e-6, TE <= 9.7e-6 of sqrt(TT EE) for 2 <= l <= 2500
(before the angular_rescaling fixes of k_max and of the late-source l threshold: TT 5.3e-4 at l = 2500, EE 1.5e-4
at l = 409).
ok_neg (closed, Omega_k = -0.03): TT, EE, TE <= 2e-5 for l <= 400, TT 2.2e-4 for l <= 1000, then errors that
oscillate in sign with l and grow to 6e-3 (TT), 1e-2 (EE) at l ~ 2000-2500: UNRESOLVED (suspects: the integer-nu
q nodes, which the trapezoid sum over nu ~ 2.4 points per oscillation makes sensitive, the trapezoid/spline
boundary, since fixed to CLASS's rule, not yet re-measured).
"""

from __future__ import annotations

import math

import numpy as np

from .bessel import x_min_phi as x_min_flat
from .hyperspherical import HyperTable, hermite6_phi, x_min_phi


def q_list_curved(k_min, k_max, K, tau0, tau_rec, ra_rec, prec):
    """CLASS ``transfer_get_q_list`` for K != 0 (module docstring; prec: TransferPrecision).
    Returns (q, index_q_flat_approximation)."""
    q_linstep, q_logstep_spline, nu_flat = prec.q_linstep, prec.q_logstep_spline, prec.hyper_flat_approximation_nu
    q_logstep_open, q_logstep_trapzd, q_numstep_transition = (prec.q_logstep_open, prec.q_logstep_trapzd,
                                                              prec.q_numstep_transition)
    sgn = 1 if K > 0 else -1
    ar = ra_rec / (tau0 - tau_rec)
    q_period = 2.0 * math.pi / (tau0 - tau_rec) * ar
    qls = q_logstep_spline / ar ** q_logstep_open
    sq = math.sqrt(abs(K))
    if sgn == -1:
        q_min, q_max = math.sqrt(k_min ** 2 + K), math.sqrt(k_max ** 2 + K)
    else:
        q_min, q_max = 3.0 * sq, k_max
    q = [q_min]
    nu = 3
    last_step, last_index = 0.0, 0
    while q[-1] < q_max:
        qp = q[-1]
        if sgn == -1:
            qn = qp + q_period * q_linstep * qp / (qp + q_linstep / qls)
        elif nu < int(nu_flat):
            qn = qp + q_period * q_linstep * qp / (qp + q_linstep / q_logstep_trapzd)
            nu_prop = int(qn / sq)
            nu = nu + 1 if nu_prop <= nu + 1 else nu_prop
            qn = nu * sq
            last_step = qn - qp
            last_index = len(q) + 1
        else:
            step = q_period * q_linstep * qp / (qp + q_linstep / qls)
            j = len(q) - last_index
            if j < int(q_numstep_transition):
                qn = qp + (1 - j / q_numstep_transition) * last_step + j / q_numstep_transition * step
            else:
                qn = qp + step
        q.append(qn)
    if q[-1] > q_max:
        q = q[:-1]
    q = np.asarray(q)
    q_approx = nu_flat * sq
    i_flat = int(np.argmax(q > q_approx)) if q_approx < q[-1] else q.size
    return q, i_flat


def _hermite_j_np(phi_l, dphi_l, l, x, x_min, dx):
    """numpy copy of `boltzax.bessel.hermite_j` (CLASS hermite4 cubic rule for j_l, j_l', j_l'')."""
    n_x = phi_l.shape[0]
    t = (x - x_min) / dx
    inside = (x >= x_min) & (t <= n_x - 1)
    i = np.clip(np.floor(t).astype(int), 0, n_x - 2)
    z = t - i
    xm = x_min + dx * i
    xp = xm + dx
    ym, yp, dym, dyp = phi_l[i], phi_l[i + 1], dphi_l[i], dphi_l[i + 1]
    ll1 = l * (l + 1.0)
    d2m = -2.0 * dym / xm + ym * (ll1 / (xm * xm) - 1.0)
    d2p = -2.0 * dyp / xp + yp * (ll1 / (xp * xp) - 1.0)
    d3m = -2.0 * d2m / xm - 2.0 * ym * ll1 / xm ** 3 + dym * (-1.0 + (2.0 + ll1) / (xm * xm))
    d3p = -2.0 * d2p / xp - 2.0 * yp * ll1 / xp ** 3 + dyp * (-1.0 + (2.0 + ll1) / (xp * xp))
    z2, z3 = z * z, z * z * z

    def cubic(f0, f1, g0, g1):
        return (f0 + g0 * dx * z + (-2.0 * g0 * dx - g1 * dx - 3.0 * f0 + 3.0 * f1) * z2
                + (g0 * dx + g1 * dx + 2.0 * f0 - 2.0 * f1) * z3)

    return tuple(np.where(inside, o, 0.0) for o in (cubic(ym, yp, dym, dyp), cubic(dym, dyp, d2m, d2p),
                                                     cubic(d2m, d2p, d3m, d3p)))


def _sin_k(sgn, chi):
    return np.sinh(chi) if sgn == -1 else np.sin(chi)


def transfers_curved(s_q, q, K, tau, tau0, tau_rec, ra_rec, tau_cut, ls, i_flat, flat_table, prec):
    """Delta_T, Delta_E (n_l, n_q) for the scalar sources s_q (n_q, n_tau, 4: t0, t1, t2, p at k(q)).

    flat_table: `boltzax.bessel.BesselTable` (j_l, for the flat approximation above index i_flat)."""
    sgn = 1 if K > 0 else -1
    sq = math.sqrt(abs(K))
    r = tau0 - tau
    w = np.concatenate([0.5 * (r[:1] - r[1:2]), 0.5 * (r[:-2] - r[2:]), 0.5 * (r[-2:-1] - r[-1:])])
    chi = sq * r
    late = r < tau0 - tau_cut
    ar = ra_rec / (tau0 - tau_rec)  # CLASS angular_rescaling: late sources dropped for l > this x 400
    ls_arr = np.asarray(ls)
    d_t = np.zeros((len(ls), q.size))
    d_e = np.zeros((len(ls), q.size))
    x_max_hyp = sq * tau0
    for iq, qq in enumerate(q):
        k = math.sqrt(qq * qq - K)
        nu = qq / sq
        if sgn == 1:
            nu = float(int(nu + 0.2))
        s2 = math.sqrt(1.0 - 3.0 * K / (k * k))
        csc = sq / (k * _sin_k(sgn, chi))
        hyper = iq < i_flat
        if hyper:
            sampling = (prec.hyper_sampling_curved_high_nu if nu > prec.hyper_nu_sampling_step
                        else prec.hyper_sampling_curved_low_nu)
            tab = HyperTable(sgn, nu, tuple(int(v) for v in ls_arr), x_max_hyp, sampling, prec.hyper_x_min,
                             prec.hyper_phi_min_abs)
        for il, l in enumerate(ls_arr):
            if sgn == 1 and l >= nu:
                continue
            if qq > l / ra_rec + max(prec.delta_k_t0, prec.delta_k_t1, prec.delta_k_t2, prec.delta_k_e):
                continue
            if hyper:
                if il >= len(tab.ls):
                    continue
                chi_cut = tab.x_cut[il]
                sel = chi >= chi_cut
                p, dp, d2p = hermite6_phi(tab.phi[il], tab.dphi[il], float(l), chi[sel], sgn, nu, tab.x_min, tab.dx,
                                          xp=np)
                resc_arg, resc = 1.0, 1.0
            else:
                ll1 = math.sqrt(l * (l + 1.0))
                chi_tp = math.asin(ll1 / nu) if sgn == 1 else math.asinh(ll1 / nu)
                resc_arg = ll1 / chi_tp
                chi_cut = float(x_min_flat(l, prec.hyper_phi_min_abs)) * chi_tp / ll1
                sel = chi >= chi_cut
                c = chi[sel]
                amp = (1.0 - K * l * (l + 1.0) / (qq * qq)) ** (-1.0 / 12.0)
                a = math.atan(l / nu) * (c - chi_tp)
                if sgn == 1:
                    resc = np.minimum(amp * (1 + 0.34 * a + 2.00 * a * a), c / np.sin(c))
                else:
                    resc = np.maximum(amp * (1 - 0.38 * a + 0.40 * a * a), c / np.sinh(c))
                p, dp, d2p = _hermite_j_np(flat_table.phi[il], flat_table.dphi[il], float(l), c * resc_arg,
                                           flat_table.x_min, flat_table.dx)
            if not sel.any():
                continue
            ww = w[sel]
            wl = np.where(late[sel] & (l > prec.neglect_late_source * ar), 0.0, ww)
            src = s_q[iq][sel]
            cs = csc[sel]
            t0 = np.sum(src[:, 0] * ww * p * resc)
            t1 = np.sum(src[:, 1] * wl * sq / k * dp * resc_arg * resc)
            t2 = np.sum(src[:, 2] * wl * (3.0 * sq * sq / (k * k) * d2p * resc_arg ** 2 + p) / (2.0 * s2) * resc)
            e = np.sum(src[:, 3] * wl * cs * cs * p * resc) * math.sqrt(
                3.0 / 8.0 * (l + 2.0) * (l + 1.0) * l * (l - 1.0)) / s2
            keep = lambda dk: qq <= l / ra_rec + dk  # noqa: E731
            d_t[il, iq] = (t0 if keep(prec.delta_k_t0) else 0.0) + (t1 if keep(prec.delta_k_t1) else 0.0) + (
                t2 if keep(prec.delta_k_t2) else 0.0)
            d_e[il, iq] = e if keep(prec.delta_k_e) else 0.0
    return d_t, d_e


def cl_curved(d1, d2, q, K, i_flat, A_s, n_s, k_pivot=0.05):
    """C_l at the sampled l (harmonic.c ``harmonic_compute_cl``): int dk/k 4 pi P(k) d1 d2, k = sqrt(q^2 - K),
    P = A_s (k/k_pivot)^(n_s - 1); est-deriv spline rule, for K > 0 trapezoid below i_flat plus CLASS's
    first-point correction integrand(q_min) q_min/k_min sqrt(K)/2. d1, d2: (n_l, n_q)."""
    import jax.numpy as jnp

    from .splines import spline_d2

    kq = np.sqrt(q * q - K)
    pk = A_s * (kq / k_pivot) ** (n_s - 1.0)
    integ = (4.0 * np.pi * pk / kq)[:, None] * (d1 * d2).T

    kk, yy = jnp.asarray(kq), jnp.asarray(integ)
    m = np.asarray(spline_d2(kk, yy))  # est-deriv spline of the integrand over all q (CLASS array_spline)
    h = np.diff(kq)[:, None]
    trap = 0.5 * (integ[1:] + integ[:-1]) * h
    corr = (m[1:] + m[:-1]) * h ** 3 / 24.0
    # CLASS array_integrate_all_trapzd_or_spline: trapezoid on intervals i < index_start_spline, spline after
    n = i_flat if K > 0 else 0
    n = min(n, kq.size - 1)
    val = trap.sum(axis=0) - corr[n:].sum(axis=0)
    if K > 0:
        val = val + integ[0] * q[0] / kq[0] * math.sqrt(K) / 2.0
    return val


def sources_from_reference(f, l_max: int, prec):
    """(s_q, q, i_flat, kq) from a tests/reference/cmb_los npz (CLASS's sources, dequantised): the curved q list
    up to q(k_max), k_max the first source k >= k_max_tau0_over_l_max l_max / tau0 / ar (CLASS perturbations.c
    k_max_cmb with angular_rescaling), and the sources t0, t1, t2, p splined at k(q)."""
    import jax.numpy as jnp

    from . import transfer as tr

    k, tau = f["k"], f["tau"]
    tau0, tau_rec, ra_rec, K = (float(f[n]) for n in ("tau0", "tau_rec", "ra_rec", "K"))
    chunk = 32  # tools/make_cmb_los_reference.py CHUNK

    def deq(name):
        qv, sc = f[f"q_{name}"], f[f"scale_{name}"]
        return qv.astype(np.float64) / 32767.0 * np.repeat(sc.astype(np.float64), chunk, axis=1)[:, :qv.shape[1]]

    t0, t1, t2 = deq("t0"), deq("t1"), deq("t2")
    ar = ra_rec / (tau0 - tau_rec)
    i_kmax = min(int(np.searchsorted(k, prec.k_max_tau0_over_l_max * l_max / tau0 / ar)), k.size - 1)
    q, i_flat = q_list_curved(k[0], k[i_kmax], K, tau0, tau_rec, ra_rec, prec)
    kq = np.sqrt(q * q - K)
    s_all = np.stack([t0, t1, t2, math.sqrt(6.0) * t2], axis=-1)
    s_q = np.asarray(tr.sources_at(jnp.asarray(k), jnp.asarray(s_all), jnp.asarray(kq)))
    return s_q, q, i_flat, kq
