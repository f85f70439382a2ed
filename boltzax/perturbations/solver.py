"""Integration of the scalar perturbations for a batch of wavenumbers, in lockstep (one fixed-step scan).

Independent variable x = ln a.  Each mode starts at tau_ini = min(k_tau_ini / k, tau_max_ini) (super-horizon,
radiation era) from the adiabatic series (initial.py) and is integrated in three phases: the full Boltzmann
hierarchy until tau_ufa = 30 / k (CLASS ur_fluid_trigger_tau_over_tau_k), the massless-neutrino fluid
approximation until the radiation-streaming switch tau_rsa = max(45 / k, tau_free_streaming) (CLASS
precisions.h radiation_streaming_trigger_tau_over_tau_k = 45, trigger_tau_c_over_tau = 5), then the RSA
system.  Massive neutrinos switch to CLASS's fluid approximation at tau = 31 / k
(ncdm_fluid_trigger_tau_over_tau_k), which splits the ur-fluid phase in two.  The state has the same shape
in every phase.

Default integrator (`PerturbationPrecision.fixed_steps` = (n_0, n_1, n_2, n_3), one per phase): the structured linear ESDIRK of
linear_esdirk.py on a grid uniform in ln a within each phase, merged with the output times.  With
``fixed_steps = ()`` an adaptive diffrax Kvaerno5 solve is used instead (the reference for convergence tests;
slow: it resolves every oscillation).
"""

from __future__ import annotations

import diffrax
import jax
import jax.numpy as jnp
import optimistix as optx

from .equations import Layout, derivs_lna, matter_outputs, ncdm_fluid_from_hierarchy
from .initial import adiabatic_ic
from .linear_esdirk import esdirk_scan
from .outputs import synchronous_transfers

LNA_END = 0.005  # integrate slightly past a = 1 so that z = 0 is an interior save point


def layout(prec, tab) -> Layout:
    """Static state layout for precision ``prec`` and tables ``tab`` (number of ncdm species / nodes)."""
    n_ncdm = int(tab.M_ncdm.shape[0])
    return Layout(prec.l_max_g, prec.l_max_pol, prec.l_max_ur, n_ncdm,
                  int(tab.q_ncdm.shape[0]) if n_ncdm else 0, prec.l_max_ncdm if n_ncdm else 0,
                  fld=tab.has_fld)


def _run_adaptive(k, tab, lay, mode, t0, t1, y0, ts, prec):
    term = diffrax.ODETerm(lambda x, y, args: derivs_lna(x, y, k, tab, lay, mode))
    # steps land on the output times: no dense-output interpolation error
    ctrl = diffrax.PIDController(rtol=prec.rtol, atol=prec.atol, step_ts=ts)
    solver = diffrax.Kvaerno5(root_finder=optx.Newton(rtol=1e-3, atol=1e-3))
    sol = diffrax.diffeqsolve(term, solver, t0, t1, dt0=None, y0=y0, max_steps=prec.max_steps,
                              stepsize_controller=ctrl, saveat=diffrax.SaveAt(ts=ts, t1=True), throw=False)
    return sol.ys[:-1], sol.ys[-1]


def _initial_state_and_switches(k, tab, prec, lay):
    """One mode: adiabatic initial state y0 at tau_ini = min(k_tau_ini / k, tau_ini_max) and the ln a of
    the start and of the three approximation switches (ur fluid, ncdm fluid, RSA; module docstring)."""
    tau_ini = jnp.minimum(prec.k_tau_ini / k, prec.tau_ini_max)
    lna_ini = tab.lna_of_tau(tau_ini)
    bg0 = dict(tab.at(lna_ini), tau=tau_ini)
    y0 = adiabatic_ic(k, tau_ini, bg0, lay)

    tau_end = tab.tau_of_lna(LNA_END)

    def lna_of(tau):  # switch times after the end of the integration are clipped to it (no extrapolation)
        return tab.lna_of_tau(jnp.minimum(tau, tau_end))

    tau_rsa = jnp.maximum(prec.rsa_k_tau / k, tab.tau_fs)
    lna_sw = jnp.minimum(lna_of(tau_rsa), LNA_END - 1e-3)
    if prec.ur_fluid:
        # CLASS ur_fluid_trigger_tau_over_tau_k = 30 < 45: the fluid phase always precedes the RSA
        lna_uf = jnp.minimum(lna_of(prec.ufa_k_tau / k), lna_sw - 1e-6)
    else:
        lna_uf = lna_sw - 1e-6
    # CLASS ncdm_fluid_trigger_tau_over_tau_k = 31: between the ur fluid switch and the RSA
    lna_fa = jnp.clip(lna_of(prec.ncdmfa_k_tau / k), lna_uf, lna_sw)
    return y0, lna_ini, lna_uf, lna_fa, lna_sw


def _ncdm_fluid_init(k, y, lna_fa, tab, lay):
    """Initialise the ncdm fluid variables from the momentum hierarchy at the switch (CLASS
    perturbations_vector_init)."""
    yc, psi = lay.split(y)
    fl = ncdm_fluid_from_hierarchy(psi, k, dict(tab.at(lna_fa), tau=tab.tau_of_lna(lna_fa)))
    return lay.join(yc.at[lay.i_fa:lay.i_fld].set(fl.reshape(-1)), psi)


def solve_mode(k, lna_out, tab, prec):
    """State y(k) at the output ln a values lna_out (increasing, <= LNA_END); returns (ys, layout, phase):
    phase (int, per output) is the integration phase 0..3 the output falls in, whose equation mode is
    ``phase_modes(prec, layout)[phase]``.  k is one wavenumber, or an array (n_k,) of them integrated in
    lockstep (the fixed-step integrator is batched over modes); ys is then (n_k, n_out, n_y) and phase
    (n_k, n_out)."""
    k = jnp.asarray(k, dtype=float)
    if k.ndim == 0:
        ys, lay, phase = solve_mode(k[None], lna_out, tab, prec)
        return ys[0], lay, phase[0]
    lay = layout(prec, tab)
    y0, lna_ini, lna_uf, lna_fa, lna_sw = jax.vmap(lambda kk: _initial_state_and_switches(kk, tab, prec, lay))(k)
    _, ufa, _, rsa = phase_modes(prec, lay)
    fa = rsa - 2

    def run(phase, mode, t0, t1, y0):
        t0, t1 = (jnp.broadcast_to(t, k.shape) for t in (t0, t1))
        ts = jnp.clip(lna_out[None, :], t0[:, None], t1[:, None])
        if not prec.fixed_steps:
            # sequential over modes (lax.map): a vmapped diffrax solve batches LAPACK's getrf, which can
            # deadlock jaxlib 0.10's CPU runtime (CHANGELOG.md, session 3)
            return jax.lax.map(lambda a: _run_adaptive(a[0], tab, lay, mode, *a[1:], prec), (k, t0, t1, y0, ts))
        n = prec.fixed_steps[phase]
        g = jax.vmap(lambda a, b, tt: jnp.sort(jnp.concatenate([jnp.linspace(a, b, n + 1), tt])))(t0, t1, ts)
        y1, ys = esdirk_scan(k, tab, lay, mode, g, y0, ts)
        return ys, y1

    ys0, y = run(0, 0, lna_ini, lna_uf, y0)
    ys1, y = run(1, ufa, lna_uf, lna_fa, y)
    if fa:
        y = jax.vmap(lambda kk, yy, xx: _ncdm_fluid_init(kk, yy, xx, tab, lay))(k, y, lna_fa)
    ys2, y = run(2, ufa + fa, lna_fa, lna_sw, y)
    ys3, _ = run(3, 2 + fa, lna_sw, LNA_END, y)
    lo = lna_out[None, :]
    uf, fa_, sw = lna_uf[:, None], lna_fa[:, None], lna_sw[:, None]
    c = lambda x: x[..., None]  # noqa: E731
    ys = jnp.where(c(lo <= uf), ys0, jnp.where(c(lo <= fa_), ys1, jnp.where(c(lo <= sw), ys2, ys3)))
    phase = _phase_index(lo, uf, fa_, sw)
    return ys, lay, phase


def _phase_index(x, lna_uf, lna_fa, lna_sw):
    """The integration phase 0..3 (`phase_modes`) at ln a x, given the switches (broadcasting)."""
    return jnp.where(x <= lna_uf, 0, jnp.where(x <= lna_fa, 1, jnp.where(x <= lna_sw, 2, 3)))


def phase_modes(prec, lay):
    """Static equation mode (equations.py) of each integration phase: full hierarchies, ur fluid, ur + ncdm
    fluids, RSA (+ ncdm fluid)."""
    ufa = 1 if prec.ur_fluid else 0
    fa = 3 if (lay.n_ncdm and prec.ncdm_fluid) else 0
    return (0, ufa, ufa + fa, 2 + fa)


def _outputs_by_phase(fn, k, lna_out, ys, phase, tab, prec, lay):
    """fn(y, k, bg, lay, mode) at every output, with the mode of the phase each output falls in (k: one
    wavenumber or an array of them, as returned by solve_mode)."""
    if jnp.ndim(k):
        return jax.vmap(lambda kk, y, ph: _outputs_by_phase(fn, kk, lna_out, y, ph, tab, prec, lay))(k, ys, phase)
    modes = phase_modes(prec, lay)

    def out(x, y, ph):
        bg = tab.at(x)
        vals = [fn(y, k, bg, lay, md) for md in modes]
        return jax.tree_util.tree_map(lambda *v: jnp.select([ph == i for i in range(4)], list(v)), *vals)

    return jax.vmap(out)(lna_out, ys, phase)


def matter_transfer(k, lna_out, tab, prec):
    """delta_m(k) and delta_cb(k) (CLASS's gauge-invariant convention, matter_outputs) at lna_out."""
    ys, lay, phase = solve_mode(k, lna_out, tab, prec)
    return _outputs_by_phase(matter_outputs, k, lna_out, ys, phase, tab, prec, lay)


def _with_growth(y, k, bg, lay, mode, x, tab):
    """(delta_m, delta_cb, f_m, f_cb): the matter contrasts and their growth rates f = d ln delta / d ln a,
    exactly from the equations at this time: the derivative of matter_outputs along the solution, by
    forward-mode differentiation in ln a with y(ln a) = y + (ln a - x) dy/dln a."""
    dy = derivs_lna(x, y, k, tab, lay, mode)
    g = lambda xx: matter_outputs(y + (xx - x) * dy, k, tab.at(xx), lay, mode)  # noqa: E731
    (dm, dcb), (ddm, ddcb) = jax.jvp(g, (x,), (jnp.ones_like(x),))
    return dm, dcb, ddm / dm, ddcb / dcb


def matter_transfer_and_growth(k, lna_out, tab, prec):
    """delta_m, delta_cb (as matter_transfer) and the scale-dependent growth rates f_m(k), f_cb(k)
    (CLASS's scale_dependent_growth_factor_f, which CLASS estimates from a spline of P(k, z) in z)."""
    ys, lay, phase = solve_mode(k, lna_out, tab, prec)
    fn = lambda y, kk, bg, ly, md: _with_growth(y, kk, bg, ly, md, bg["lna"], tab)  # noqa: E731
    return _outputs_by_phase(fn, k, lna_out, ys, phase, tab, prec, lay)


def transfers(k, lna_out, tab, prec):
    """All of CLASS's synchronous-gauge transfer functions (outputs.synchronous_transfers) at lna_out:
    dict of arrays (len(lna_out),) (d_ncdm, t_ncdm: (len(lna_out), n_ncdm))."""
    ys, lay, phase = solve_mode(k, lna_out, tab, prec)
    return _outputs_by_phase(synchronous_transfers, k, lna_out, ys, phase, tab, prec, lay)


def solve_at_output_times(k, lna_out, tab, prec, out_fn, aux, n_sub: int = 1, n_pre: int = 300,
                          n_groups: int = 1, k_sub: float = 0.0, tableau: str = "Kvaerno5",
                          pre_phase: float = 0.0, pre_dlna_max: float = 0.1, node_rate=None,
                          node_alpha: float = 0.0, node_k_cut: float = 1.0):
    """out_fn evaluated on the solution at every output time, for a batch of modes, with the integration
    steps ON the output grid: the sources' time sampling (dense around recombination).

    k (B,) [1/Mpc], increasing; lna_out (n_out,) increasing, the same for all modes; out_fn(y, k, bg, aux_j,
    lay, mode) -> pytree of scalars, for one mode at one output (bg = tab.at(ln a), aux_j = the j-th slice of
    the pytree ``aux`` (leading axis n_out), mode the equation mode of the phase the output falls in, as
    `_outputs_by_phase`).  Returns the pytree with leaves (n_out, B).

    The modes are split into ``n_groups`` groups of consecutive wavenumbers (the last padded with copies of
    the largest k), integrated one group after the other (lax.map: one compiled program), each group in
    lockstep.  The approximation switches are monotone in k, so a group of neighbouring modes occupies one
    or two integration phases at a time instead of all four: the lockstep cost per interval is (occupied
    phases) x (group size).

    One step grid per group: intervals uniform in ln a up to lna_out[0], of the length that gives
    ceil(n_pre / n_sub) intervals from the earliest start of ALL modes (a group that starts later takes fewer:
    the others have zero length and are skipped), then the output times.  In every interval each mode takes
    ``n_sub`` equal ESDIRK steps inside each integration phase (solve_mode's phases and switches) that
    overlaps it: the interval clipped to the mode's phase (zero-length steps outside it), except modes with
    k < ``k_sub`` after the first output, which take one step (the others of zero length); a step of zero
    length for every mode of the group is skipped (linear_esdirk.esdirk_scan), so is a phase that no mode of
    the group occupies in an interval (lax.cond), and so is its output evaluation.  Unlike solve_mode (whose
    per-phase grids include every output time, with zero-length steps outside the phase, and which carries
    all outputs through its scan) the cost is ~n_sub x (occupied phases) steps per interval, and the state
    is never stored, only out_fn's values.

    ``pre_phase`` > 0: each group has its own pre-output grid instead, built backwards from the first
    output with steps of the ln a length at which the acoustic phase k c_s tau (c_s = 1/sqrt 3) of
    k = min(its largest k, ``node_k_cut``) advances by pre_phase, at most ``pre_dlna_max``: low-k groups
    are super-horizon or nearly so before the first source time (the expansion time sets their steps),
    and high-k modes take steps ~ uniform in tau instead of in ln a (the grid's first node is moved back to
    the group's start if ceil(n_pre / n_sub) intervals do not reach it).

    ``node_alpha`` > 0 (with ``node_rate`` (n_out,) [1/Mpc], the non-acoustic rate of change of the state at
    the output times): after the first output each group steps only to the outputs `step_nodes` selects for
    it (k_eff = min(its largest k, ``node_k_cut``)) and takes the others from a cubic Hermite interpolant of
    the state (`_dense_outputs`)."""
    k = jnp.asarray(k, dtype=float)
    n_k = k.shape[0]
    n_groups = max(1, min(int(n_groups), n_k))
    size = -(-n_k // n_groups)
    kp = jnp.concatenate([k, jnp.broadcast_to(k[-1:], (n_groups * size - n_k,))]).reshape(n_groups, size)
    lay = layout(prec, tab)
    n_pre_iv = max(1, -(-n_pre // n_sub))  # intervals before the first output
    if pre_phase <= 0.0:
        # one ln a step before the outputs for all groups: that of n_pre steps from the earliest start of all
        lna_first = jnp.min(jax.vmap(lambda kk: _initial_state_and_switches(kk, tab, prec, lay)[1])(k))
        d_pre = (lna_out[0] - lna_first) / n_pre_iv

    def pre_grid(kg):
        # backwards from the first output: interval dx = min(pre_dlna_max, n_sub pre_phase / (k_eff c_s tau))
        k_eff = jnp.minimum(jnp.max(kg), node_k_cut)

        def back(x, _):
            dx = jnp.minimum(pre_dlna_max, pre_phase * n_sub * jnp.sqrt(3.0) / (k_eff * tab.tau_of_lna(x)))
            return x - dx, x - dx

        _, xs = jax.lax.scan(back, lna_out[0], None, length=n_pre_iv)
        return jax.lax.stop_gradient(xs[::-1])  # a grid choice: no tangent

    def group(kg):
        d = pre_grid(kg) if pre_phase > 0.0 else d_pre
        nodes = None
        if node_alpha > 0.0:
            nodes = (node_rate, jnp.minimum(jnp.max(kg), node_k_cut), node_alpha)
        return _solve_group_at_output_times(kg, lna_out, tab, prec, out_fn, aux, n_sub, n_pre, d, k_sub,
                                            tableau, nodes)

    if n_groups == 1:
        outs = jax.tree_util.tree_map(lambda v: v[None], group(kp[0]))
    else:
        outs = jax.lax.map(group, kp)
    n_out = lna_out.shape[0]
    return jax.tree_util.tree_map(lambda v: jnp.moveaxis(v, 0, 1).reshape(n_out, -1)[:, :n_k], outs)


def _solve_group_at_output_times(k, lna_out, tab, prec, out_fn, aux, n_sub, n_pre, d_pre, k_sub,
                                 tableau="Kvaerno5", nodes=None):
    """solve_at_output_times for one group of modes in lockstep (leaves (n_out, B)); d_pre: the ln a length
    of the intervals before the first output."""
    lay = layout(prec, tab)
    y0, lna_ini, lna_uf, lna_fa, lna_sw = jax.vmap(lambda kk: _initial_state_and_switches(kk, tab, prec, lay))(k)
    modes = phase_modes(prec, lay)
    has_fa = modes[3] - 2 > 0
    end = jnp.full_like(k, LNA_END)
    node_mask = None
    if nodes is not None:
        rate, k_eff, alpha = nodes
        sg = jax.lax.stop_gradient
        tau_out = sg(tab.tau_of_lna(lna_out))
        # both ends of every output interval holding a switch are nodes (delaying the switches to the next
        # node instead moved EE at l ~ 50 by 1e-4: CHANGELOG session 10)
        node_mask = step_nodes(tau_out, sg(rate), sg(k_eff), alpha, sg(jnp.stack([lna_uf, lna_fa, lna_sw])),
                               sg(lna_out), sg(jnp.max(lna_sw)))
    bounds = ((lna_ini, lna_uf), (lna_uf, lna_fa), (lna_fa, lna_sw), (lna_sw, end))
    n_pre = max(1, -(-n_pre // n_sub))  # intervals before the first output: ~n_pre steps in all
    # the last pre interval ends at lna_out[0]; those before the group's start have zero length
    if jnp.ndim(d_pre):  # the group's own pre-output grid (solve_at_output_times, pre_phase)
        pre = jnp.maximum(d_pre, jnp.min(lna_ini))
        pre = pre.at[0].set(jnp.minimum(pre[0], jnp.min(lna_ini)))  # the grid starts at the group's start
    else:
        pre = jnp.maximum(lna_out[0] - d_pre * jnp.arange(n_pre, 0, -1), jnp.min(lna_ini))

    def outputs(y, x, aux_j):
        ph = _phase_index(x, lna_uf, lna_fa, lna_sw)
        bg = tab.at(x)
        vals = []
        for p, md in enumerate(modes):
            f = jax.vmap(lambda yy, kk, md=md: out_fn(yy, kk, bg, aux_j, lay, md))
            shapes = jax.eval_shape(f, y, k)
            zeros = lambda yy, kk, shapes=shapes: jax.tree_util.tree_map(  # noqa: E731
                lambda sd: jnp.zeros(sd.shape, sd.dtype), shapes)
            vals.append(jax.lax.cond(jnp.any(ph == p), f, zeros, y, k))
        return jax.tree_util.tree_map(lambda *v: jnp.select([ph == i for i in range(4)], list(v)), *vals)

    frac = jnp.linspace(0.0, 1.0, n_sub + 1)
    frac_one = jnp.ones(n_sub + 1).at[0].set(0.0)  # one step, then zero-length ones

    def advance(y, xa, xb, one_step):
        """y from xa to xb (per-mode phases clipped, n_sub steps in each, the ncdm fluid switch applied)."""
        fr = jnp.where(one_step[:, None], frac_one[None, :], frac[None, :])
        for p in range(4):
            t0, t1 = bounds[p]
            a, b = jnp.clip(xa, t0, t1), jnp.clip(xb, t0, t1)
            g = a[:, None] + (b - a)[:, None] * fr
            y = jax.lax.cond(jnp.any(b > a),
                             lambda yy, g=g, p=p: esdirk_scan(k, tab, lay, modes[p], g, yy, g[:, -1:],
                                                                    tableau=tableau)[0],
                             lambda yy: yy, y)
            if p == 1 and has_fa:
                yf = jax.vmap(lambda kk, yy, xx: _ncdm_fluid_init(kk, yy, xx, tab, lay))(k, y, lna_fa)
                y = jnp.where(((lna_fa > xa) & (lna_fa <= xb))[:, None], yf, y)
        return y

    if nodes is not None:
        return _dense_outputs(k, lna_out, tab, lay, modes, aux, y0, pre, node_mask, advance, outputs,
                              (lna_uf, lna_fa, lna_sw), tau_out)

    grid = jnp.concatenate([pre, lna_out])
    aux = jax.tree_util.tree_map(
        lambda v: jnp.concatenate([jnp.broadcast_to(v[:1], (n_pre,) + v.shape[1:]), v]), aux)

    def interval(y, inp):
        xa, xb, aux_j = inp
        y = advance(y, xa, xb, (k < k_sub) & (xa >= lna_out[0]))
        # the pre-output intervals' values are discarded: not evaluated
        shapes = jax.eval_shape(outputs, y, xb, aux_j)
        out = jax.lax.cond(xb >= lna_out[0], outputs,
                           lambda *_: jax.tree_util.tree_map(lambda sd: jnp.zeros(sd.shape, sd.dtype), shapes),
                           y, xb, aux_j)
        return y, out

    aux1 = jax.tree_util.tree_map(lambda v: v[1:], aux)
    _, outs = jax.lax.scan(interval, y0, (grid[:-1], grid[1:], aux1))
    return jax.tree_util.tree_map(lambda v: v[n_pre - 1:], outs)


def step_nodes(tau_out, rate, k_eff, alpha, switch_lna, lna_out, lna_acoustic_end=None):
    """Which output times a group of modes steps to (bool (n_out,)), the others being interpolated.

    tau_out (n_out,) [Mpc] increasing; rate (n_out,) [1/Mpc] the rate at which the state varies apart from
    the acoustic oscillation; k_eff [1/Mpc] the wavenumber whose acoustic phase k c_s tau (c_s = 1/sqrt 3)
    the steps must resolve.  Greedy from the first output: an output is a node when the next one lies more
    than alpha / sqrt(rate^2 + (k_eff c_s)^2) after the last node.  Forced nodes: the first and last outputs,
    and both ends of every output interval (lna_out) holding an approximation switch (switch_lna, any shape) of
    a mode of the group, so that no interpolated span crosses a switch.  After ``lna_acoustic_end`` (the
    group's last radiation-streaming switch: photons and massless neutrinos are algebraic from there, solver
    module docstring) the acoustic term is dropped."""
    lo = lna_out
    forced = jnp.zeros(lo.shape, bool).at[0].set(True).at[-1].set(True)
    if switch_lna is not None:
        sw = switch_lna.reshape(-1)
        has = jnp.any((sw[None, :] > lo[:-1, None]) & (sw[None, :] <= lo[1:, None]), axis=1)  # interval (j, j+1]
        no = jnp.zeros((1,), bool)
        forced = forced | jnp.concatenate([no, has]) | jnp.concatenate([has, no])
    k_eff = jnp.broadcast_to(k_eff, lo.shape)
    if lna_acoustic_end is not None:
        k_eff = jnp.where(lo > lna_acoustic_end, 0.0, k_eff)
    dmax = alpha / jnp.sqrt(rate**2 + (k_eff / jnp.sqrt(3.0)) ** 2)
    nxt = jnp.concatenate([tau_out[1:], tau_out[-1:]])

    def body(last, inp):
        t, tn, d, f = inp
        node = f | (tn - last > d)
        return jnp.where(node, t, last), node

    _, node = jax.lax.scan(body, tau_out[0], (tau_out, nxt, dmax, forced))
    return node, dmax


def _hermite(xa, ya, fa, xb, yb, fb, x):
    """Cubic Hermite interpolant at x of (ya, fa = dy/dx) at xa and (yb, fb) at xb; x, xa, xb scalars."""
    d = jnp.where(xb > xa, xb - xa, 1.0)
    t = (x - xa) / d
    h00, h10 = (1 + 2 * t) * (1 - t) ** 2, t * (1 - t) ** 2
    h01, h11 = t * t * (3 - 2 * t), t * t * (t - 1)
    return h00 * ya + h10 * d * fa + h01 * yb + h11 * d * fb


def _dense_outputs(k, lna_out, tab, lay, modes, aux, y0, pre, nodes, advance, outputs, switches, tau_out):
    """The outputs of one group with steps only to the node outputs (``nodes``, bool (n_out,), from
    `step_nodes`): pass 1 steps from node to node (the pre-output grid ``pre`` first) and keeps y and
    dy/dln a at the nodes; pass 2 evaluates the outputs at every output time on the state there, a node's
    own or the cubic Hermite interpolant in ln a between the nodes around it (no switch lies between them).
    ``nodes`` = (node mask, dmax) from `step_nodes`: a span no longer than dmax at its end node is one step,
    a longer one (a single output interval longer than dmax) the ``n_sub`` steps of ``advance``."""
    lna_uf, lna_fa, lna_sw = switches
    nodes, dmax = nodes
    never = jnp.zeros(k.shape, bool)

    def pre_step(y, inp):
        return advance(y, inp[0], inp[1], never), None

    y, _ = jax.lax.scan(pre_step, y0, (pre, jnp.concatenate([pre[1:], lna_out[:1]])))

    def slope(y, x):
        ph = _phase_index(x, lna_uf, lna_fa, lna_sw)
        vals = []
        for p, md in enumerate(modes):
            f = jax.vmap(lambda yy, kk, md=md: derivs_lna(x, yy, kk, tab, lay, md))
            vals.append(jax.lax.cond(jnp.any(ph == p), f, lambda yy, kk: jnp.zeros_like(yy), y, k))
        return jnp.select([(ph == i)[:, None] for i in range(4)], vals)

    def node_step(carry, inp):
        y, x_last, t_last = carry
        x, t, d, is_node = inp
        one = jnp.broadcast_to(t - t_last <= d, k.shape)
        y = jax.lax.cond(is_node & (x > x_last), lambda yy: advance(yy, x_last, x, one), lambda yy: yy, y)
        f = jax.lax.cond(is_node, lambda yy: slope(yy, x), jnp.zeros_like, y)
        return (y, jnp.where(is_node, x, x_last), jnp.where(is_node, t, t_last)), (y, f)

    _, (ys, fs) = jax.lax.scan(node_step, (y, lna_out[0], tau_out[0]), (lna_out, tau_out, dmax, nodes))
    idx = jnp.arange(lna_out.shape[0])
    ia = jax.lax.cummax(jnp.where(nodes, idx, 0))
    ib = jax.lax.cummin(jnp.where(nodes, idx, idx[-1]), reverse=True)

    def evaluate(_, inp):
        j, aux_j = inp
        a, b = ia[j], ib[j]
        y = _hermite(lna_out[a], ys[a], fs[a], lna_out[b], ys[b], fs[b], lna_out[j])
        y = jnp.where(nodes[j], ys[j], y)
        return None, outputs(y, lna_out[j], aux_j)

    _, outs = jax.lax.scan(evaluate, None, (idx, aux))
    return outs
