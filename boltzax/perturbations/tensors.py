"""Tensor perturbations (primordial gravitational waves) and their CMB sources, as CLASS v3.4.1 in flat space.

State (CLASS perturbations.c, tensor mode, ``hierarchy = optimal``, ``tensor_method = tm_massless_approximation``,
the defaults of input.c): y = [h, h', F_g^(2)_0..l_g, G_g^(2)_0..l_p, F_ur^(2)_0..l_ur] with h the tensor
metric perturbation (gw), h' = dh/dtau (gwdot), F and G the photon temperature and polarisation multipoles of
Pitrou et al. (arXiv:1305.3261, "optimal" hierarchy), F_ur the massless-neutrino multipoles.  l_g = l_p =
l_max_g_ten = l_max_pol_g_ten = 5, l_ur = l_max_ur_ten = 17 (CLASS precisions.h).  Equations (CLASS
perturbations_derivs, tensors; 1305.3261 eqs. 2.34-2.36 with m = 2, K = 0, s_l = 1):

  h''      = -2 (a'/a) h' - k^2 h + S_gw                                          (perturbations_einstein)
  S_gw     = -4 sqrt6 a^2 [rho_g (F_0/15 + 2 F_2/21 + F_4/35)_g + rho_rel (same)_ur]  (total_stress_energy)
  P^(2)    = -(F_0/10 + F_2/7 + 3 F_4/70 - 3 G_0/5 + 6 G_2/7 - 3 G_4/70)_g / sqrt6       (eq. 2.16c)
  F_0'     = -k F_1 - kappa' (F_0 + sqrt6 P) + sqrt6 h'
  G_0'     = -k G_1 - kappa' (G_0 - sqrt6 P)
  X_l'     = k/(2l+1) (l X_{l-1} - (l+1) X_{l+1}) - kappa' X_l      (0 < l < l_max; X = F, G; no kappa' for ur)
  X_lmax'  = k (X_{lmax-1} - (lmax+1)/(k tau) X_lmax) - kappa' X_lmax                     (closure, eq. 2.34)
  F_ur,0'  = -k F_ur,1 + sqrt6 h'

with rho_rel = rho_ur + 3 sum p_ncdm (tm_massless_approximation: the ncdm treated as massless, weighted by
3 p_ncdm).  All densities are CLASS's 8 pi G/3 rho [1/Mpc^2].

Approximations, as CLASS's (their errors are part of CLASS's C_l: measured below).  Tight coupling (TCA,
perturbations_approximations, tensors: on while aH/kappa' < 0.015 and k/kappa' < 0.01): the photon multipoles
are not evolved, their stress in S_gw is 8/5 a^2 rho_g (-4/3) h'/kappa' and P = -h'/(3 kappa'); at the switch
the photons restart from F_0 = 4 sqrt6/3 h'/kappa', G_0 = -sqrt6/3 h'/kappa', all other multipoles 0
(perturbations_vector_init).  That restart is CLASS's largest tensor approximation error: with its TCA
triggers lowered 10x CLASS's EE and BB move by -6.4e-3 at l ~ 11 (TT 6e-5), the same shift as integrating the
exact photon equations from the start (``TensorPrecision.tca = False``).  CLASS's radiation-streaming approximation for tensors (perturbations_approximations: tau >
max(45/k, tau_free_streaming)) removes the photons: after that time their contribution to S_gw and P is zero
(as CLASS) and their multipoles are frozen.

Initial conditions (perturbations_initial_conditions, tensors, flat): at CLASS's start time of each mode
(perturbations_start_time_of_mode: the latest time with aH/kappa' < start_small_k_at_tau_c_over_tau_h = 0.0015
and k/(aH) < start_large_k_at_tau_h_over_tau_k = 0.07), h = (1 + c (k tau)^2)/sqrt6 with
c = -1/(6 + 8/5 rho_fs/rho_r), h' = 2 c k^2 tau/sqrt6, F_ur,0 = sqrt6 (h - 1/sqrt6); rho_fs = rho_ur + 3 p_ncdm,
rho_r = rho_g + rho_ur + rho_ncdm.  gw_ini = 1: C_l use P_t = A_t (k/k_pivot)^(n_t + alpha_t/2 ln(k/k_pivot))
(primordial.tensor_spectrum).

Sources (perturbations_sources, tensors): t2 = -h' e^-kappa + g P, p = sqrt6 g P (P = 0 in RSA).

Integration (``solve_sources``): diffrax, adaptive PID, in x = ln a, steps landing on the source times: Tsit5
through the TCA (not stiff without the photons), Kvaerno5 (L-stable) from the TCA exit to tau_free_streaming,
Tsit5 after it (jump at the RSA switch); vmapped over k within groups of neighbouring k.
"""

from __future__ import annotations

import dataclasses
import math

import diffrax
import jax
import jax.numpy as jnp
import numpy as np

SQRT6 = math.sqrt(6.0)
TENSOR_SOURCE_NAMES = ("t2", "p")


@dataclasses.dataclass(frozen=True)
class TensorPrecision:
    """Tensor-mode settings (CLASS precisions.h names in comments; defaults = CLASS v3.4.1)."""

    l_max_g: int = 5  # l_max_g_ten
    l_max_pol: int = 5  # l_max_pol_g_ten
    l_max_ur: int = 17  # l_max_ur_ten
    start_small_k_at_tau_c_over_tau_h: float = 0.0015  # start_small_k_at_tau_c_over_tau_h
    start_large_k_at_tau_h_over_tau_k: float = 0.07  # start_large_k_at_tau_h_over_tau_k
    rsa_k_tau: float = 45.0  # radiation_streaming_trigger_tau_over_tau_k
    rsa: bool = True  # CLASS's radiation-streaming approximation for tensor photons (radiation_streaming_approximation)
    # CLASS's tight-coupling approximation for tensor photons (its error, up to 6e-3 in EE/BB at l ~ 10-40, is part
    # of CLASS's result: measured with CLASS's own triggers lowered 10x); False: exact photon equations throughout
    tca: bool = True
    tca_tau_c_over_tau_h: float = 0.015  # tight_coupling_trigger_tau_c_over_tau_h
    tca_tau_c_over_tau_k: float = 0.01  # tight_coupling_trigger_tau_c_over_tau_k
    rtol: float = 1e-6  # adaptive solver tolerances (state normalised to h_ini = 1/sqrt6)
    atol: float = 1e-10
    max_steps: int = 40000
    # static number of tensor k nodes; 0: CLASS's count at the sizing cosmologies + margin (tensor_k_count)
    n_k: int = 0
    n_k_margin: int = 4  # extra nodes beyond the largest sizing count (masked past k_max)
    k_groups: int = 6  # modes solved in this many groups of consecutive k (lax.map), each vmapped in lockstep


@dataclasses.dataclass(frozen=True)
class TensorLayout:
    """Index layout of the tensor state (static)."""

    l_max_g: int = 5
    l_max_pol: int = 5
    l_max_ur: int = 17

    @property
    def i_g(self):
        return 2

    @property
    def i_pol(self):
        return 3 + self.l_max_g

    @property
    def i_ur(self):
        return 4 + self.l_max_g + self.l_max_pol

    @property
    def size(self):
        return 5 + self.l_max_g + self.l_max_pol + self.l_max_ur


def layout_of(tp: TensorPrecision) -> TensorLayout:
    return TensorLayout(tp.l_max_g, tp.l_max_pol, tp.l_max_ur)


def _rho_rel(bg):
    """a^2 (rho_ur + 3 sum p_ncdm) [1/Mpc^2]: CLASS tm_massless_approximation's relativistic density."""
    r = bg["a2rho"][3]
    if bg["ncdm_bg"] is not None:
        r = r + 3.0 * jnp.sum(bg["ncdm_bg"][1])
    return r


def _pi_combo(f):
    """F_0/15 + 2 F_2/21 + F_4/35 (1305.3261: the tensor anisotropic stress in the optimal hierarchy)."""
    return f[0] / 15.0 + 2.0 * f[2] / 21.0 + f[4] / 35.0


def p2(y, lay: TensorLayout):
    """P^(2) of 1305.3261 eq. 2.16c from the photon multipoles."""
    f = y[lay.i_g:lay.i_g + lay.l_max_g + 1]
    g = y[lay.i_pol:lay.i_pol + lay.l_max_pol + 1]
    return -(f[0] / 10.0 + f[2] / 7.0 + 3.0 * f[4] / 70.0 - 3.0 * g[0] / 5.0 + 6.0 * g[2] / 7.0
             - 3.0 * g[4] / 70.0) / SQRT6


def _free_stream(x, kappa_dot, k, tau, src0, lmax):
    """d/dtau of one m = 2 hierarchy X_0..X_lmax (1305.3261 eqs. 2.34-2.36, K = 0): streaming, collision
    -kappa' X_l (kappa_dot = 0 for ur), source src0 added to X_0'."""
    l = jnp.arange(1, lmax, dtype=x.dtype)
    mid = k / (2.0 * l + 1.0) * (l * x[:-2] - (l + 1.0) * x[2:])
    first = -k * x[1] + src0
    last = k * (x[-2] - (lmax + 1.0) / (k * tau) * x[-1])
    return jnp.concatenate([first[None], mid, last[None]]) - kappa_dot * x


def derivs_tau(y, k, bg, lay: TensorLayout, photons_on, tca=0.0):
    """dy/dtau of the tensor state (module docstring); bg = PertTables.at(ln a); photons_on: 1 before the
    RSA switch, 0 after (photon multipoles frozen and dropped from S_gw and P); tca: 1 in CLASS's tight-coupling
    phase (photon multipoles frozen, their stress in S_gw from the TCA solution, 8/5 a^2 rho_g (-4/3) h'/kappa':
    perturbations_total_stress_energy), else 0."""
    tau, aH, kd = bg["tau"], bg["aH"], bg["dkappa"]
    a2rho_g = bg["a2rho"][0]
    h, hp = y[0], y[1]
    fg = y[lay.i_g:lay.i_g + lay.l_max_g + 1]
    gg = y[lay.i_pol:lay.i_pol + lay.l_max_pol + 1]
    fu = y[lay.i_ur:lay.i_ur + lay.l_max_ur + 1]
    P = p2(y, lay)
    pi_g = (1.0 - tca) * -4.0 * SQRT6 * _pi_combo(fg) + tca * 8.0 / 5.0 * (-4.0 / 3.0) * hp / kd
    s_gw = photons_on * a2rho_g * pi_g - 4.0 * SQRT6 * _rho_rel(bg) * _pi_combo(fu)
    photons_on = photons_on * (1.0 - tca)
    dfg = _free_stream(fg, kd, k, tau, -kd * SQRT6 * P + SQRT6 * hp, lay.l_max_g)
    dgg = _free_stream(gg, kd, k, tau, kd * SQRT6 * P, lay.l_max_pol)
    dfu = _free_stream(fu, 0.0, k, tau, SQRT6 * hp, lay.l_max_ur)
    hpp = -2.0 * aH * hp - k * k * h + s_gw
    return jnp.concatenate([jnp.stack([hp, hpp]), photons_on * dfg, photons_on * dgg, dfu])


def _crossing(f, grid, dlna):
    """ln a of the first upward zero crossing of f (sampled on the uniform ln a ``grid``, step ``dlna``),
    linear between rows."""
    i = jnp.argmax(f > 0)
    w = f[i - 1] / (f[i - 1] - f[i])
    return grid[i - 1] + w * dlna


def start_lna(k, tab, tp: TensorPrecision):
    """CLASS's start time of a mode (perturbations_start_time_of_mode), as ln a: the earlier of the times at
    which aH/kappa' = start_small_k_at_tau_c_over_tau_h and k/(aH) = start_large_k_at_tau_h_over_tau_k,
    interpolated linearly in ln a on the (uniform ln a) table.  Under stop_gradient."""
    tab = jax.lax.stop_gradient(tab)
    k = jax.lax.stop_gradient(k)
    grid = tab.lna0 + tab.dlna * jnp.arange(tab.ln_aH.shape[0])
    f1 = tab.ln_aH - tab.ln_dkappa - math.log(tp.start_small_k_at_tau_c_over_tau_h)  # increasing early on
    f2 = jnp.log(k) - tab.ln_aH - math.log(tp.start_large_k_at_tau_h_over_tau_k)  # increasing (radiation era)
    return jnp.minimum(_crossing(f1, grid, tab.dlna), _crossing(f2, grid, tab.dlna))


def initial_state(k, lna, tab, lay: TensorLayout):
    """CLASS's tensor initial conditions (module docstring) at ln a, with the photon F_0, G_0 at their TCA
    values."""
    bg = tab.at(lna)
    tau = bg["tau"]
    a2 = bg["a2rho"]
    rho_fs = _rho_rel(bg)
    rho_r = a2[0] + a2[3] + (jnp.sum(bg["ncdm_bg"][0]) if bg["ncdm_bg"] is not None else 0.0)
    h0 = 1.0 / SQRT6
    corr = -h0 * k * k / (6.0 + 8.0 / 5.0 * rho_fs / rho_r) * tau * tau
    hp = 2.0 * corr / tau
    y = jnp.zeros(lay.size)
    y = y.at[0].set(h0 + corr).at[1].set(hp)
    y = y.at[lay.i_g].set(SQRT6 * 4.0 / 3.0 * hp / bg["dkappa"])
    y = y.at[lay.i_pol].set(-SQRT6 / 3.0 * hp / bg["dkappa"])
    return y.at[lay.i_ur].set(SQRT6 * corr)


def tca_lna(k, tab, tp: TensorPrecision):
    """ln a at which CLASS switches the tensor tight-coupling approximation off (perturbations_approximations,
    tensors): the first time with tau_c/tau_h = aH/kappa' >= tight_coupling_trigger_tau_c_over_tau_h or
    tau_c/tau_k = k/kappa' >= tight_coupling_trigger_tau_c_over_tau_k (both grow monotonically before
    recombination), linear in ln a between table rows.  Under stop_gradient."""
    tab = jax.lax.stop_gradient(tab)
    k = jax.lax.stop_gradient(k)
    grid = tab.lna0 + tab.dlna * jnp.arange(tab.ln_aH.shape[0])
    f1 = tab.ln_aH - tab.ln_dkappa - math.log(tp.tca_tau_c_over_tau_h)
    f2 = jnp.log(k) - tab.ln_dkappa - math.log(tp.tca_tau_c_over_tau_k)
    return jnp.minimum(_crossing(f1, grid, tab.dlna), _crossing(f2, grid, tab.dlna))


def tca_exit_state(y, lna, tab, lay: TensorLayout):
    """The state at the end of the TCA (perturbations_vector_init, tensors, optimal hierarchy): photon
    F_0 = 4 sqrt6/3 h'/kappa', G_0 = -sqrt6/3 h'/kappa', the other photon multipoles 0."""
    kd = tab.at(lna)["dkappa"]
    y = y.at[lay.i_g:lay.i_ur].set(0.0)
    y = y.at[lay.i_g].set(SQRT6 * 4.0 / 3.0 * y[1] / kd)
    return y.at[lay.i_pol].set(-SQRT6 / 3.0 * y[1] / kd)


def rsa_lna(k, tab, tp: TensorPrecision):
    """ln a of CLASS's tensor RSA switch, tau = max(rsa_k_tau/k, tau_free_streaming) (beyond the end if off)."""
    tau_sw = jnp.maximum(tp.rsa_k_tau / k, tab.tau_fs)
    tau_end = tab.tau_of_lna(0.01)
    return jnp.where(tp.rsa, tab.lna_of_tau(jnp.minimum(tau_sw, tau_end)), 0.02)


def source_terms(y, bg, aux, lay: TensorLayout, photons_on):
    """(t2, p) at one time: t2 = -h' e^-kappa + g P, p = sqrt6 g P (aux = (g, g', e^-kappa, (aH)'))."""
    g, _, emk, _ = aux
    P = photons_on * p2(y, lay)
    return -y[1] * emk + g * P, SQRT6 * g * P


def solve_sources(k, lna_out, aux, tab, tp: TensorPrecision):
    """Tensor sources (t2, p), each (n_k, n_out), at ln a = lna_out (increasing, shared) for wavenumbers k.

    aux: (g, g', e^-kappa, (aH)') at the output times (sources.thermo_at_tau), each (n_out,).  Three solves
    per mode: Tsit5 through CLASS's TCA (photons not evolved: not stiff), Kvaerno5 (stiff: Thomson scattering)
    from the TCA exit to the photon free-streaming time tau_fs (the same for all modes), then Tsit5 (the
    oscillating free-streaming hierarchies need many cheap steps) to the last output, with a jump at the RSA
    switch.  All land their steps on the output times and save only (h', P) there (a small save buffer: the
    solves are vmapped).  The modes run in ``tp.k_groups`` groups of consecutive k (lax.map), each group
    vmapped in lockstep.
    Returns (sources, ok (n_k,), steps (n_k,))."""
    lay = layout_of(tp)
    lna_end = lna_out[-1]
    x_split = tab.lna_of_tau(tab.tau_fs)
    ts2 = jnp.maximum(lna_out, x_split)

    def one(kk):
        x0 = start_lna(kk, tab, tp)
        x_sw = rsa_lna(kk, tab, tp)
        x_tc = jnp.minimum(tca_lna(kk, tab, tp), x_split) if tp.tca else x0
        y0 = initial_state(kk, x0, tab, lay)

        def rhs(x, y, args):
            bg = tab.at(x)
            on = jnp.where(x < x_sw, 1.0, 0.0)
            return derivs_tau(y, kk, bg, lay, on, args) / bg["aH"]

        def out_fn(t, y, args):  # (h', P): P = -h'/(3 kappa') in the TCA (perturbations_sources, tensors)
            return jnp.stack([y[1], jnp.where(args > 0, -y[1] / (3.0 * tab.at(t)["dkappa"]), p2(y, lay))])

        term = diffrax.ODETerm(rhs)
        ts_a = jnp.clip(lna_out, x0, x_tc)
        ts_b = jnp.clip(lna_out, x_tc, x_split)
        if tp.tca:
            save_a = diffrax.SaveAt(subs=[diffrax.SubSaveAt(ts=ts_a, fn=out_fn), diffrax.SubSaveAt(t1=True)])
            sa = diffrax.diffeqsolve(term, diffrax.Tsit5(), x0, x_tc, dt0=None, y0=y0, args=1.0,
                                     max_steps=tp.max_steps, saveat=save_a, throw=False,
                                     stepsize_controller=diffrax.PIDController(rtol=tp.rtol, atol=tp.atol,
                                                                               step_ts=ts_a))
            y_tc, out_a = tca_exit_state(sa.ys[1][-1], x_tc, tab, lay), sa.ys[0]
            ok_a, n_a = sa.result == diffrax.RESULTS.successful, sa.stats["num_steps"]
        else:
            y_tc, out_a, ok_a, n_a = y0, jnp.zeros((lna_out.shape[0], 2)), True, 0
        save_b = diffrax.SaveAt(subs=[diffrax.SubSaveAt(ts=ts_b, fn=out_fn), diffrax.SubSaveAt(t1=True)])
        sb = diffrax.diffeqsolve(term, diffrax.Kvaerno5(), x_tc, x_split, dt0=None, y0=y_tc, args=0.0,
                                 max_steps=tp.max_steps,
                                 stepsize_controller=diffrax.PIDController(rtol=tp.rtol, atol=tp.atol, step_ts=ts_b),
                                 saveat=save_b, throw=False)
        ctrl2 = diffrax.PIDController(rtol=tp.rtol, atol=tp.atol, step_ts=ts2, jump_ts=jnp.reshape(x_sw, (1,)))
        s2 = diffrax.diffeqsolve(term, diffrax.Tsit5(), x_split, lna_end, dt0=None, y0=sb.ys[1][-1], args=0.0,
                                 max_steps=tp.max_steps, stepsize_controller=ctrl2,
                                 saveat=diffrax.SaveAt(ts=ts2, fn=out_fn), throw=False)
        hp_p = jnp.where((lna_out <= x_tc)[:, None], out_a,
                         jnp.where((lna_out <= x_split)[:, None], sb.ys[0], s2.ys))
        on = jnp.where(lna_out < x_sw, 1.0, 0.0)
        g, _, emk, _ = aux
        t2 = -hp_p[:, 0] * emk + g * on * hp_p[:, 1]
        p = SQRT6 * g * on * hp_p[:, 1]
        ok = (ok_a & (sb.result == diffrax.RESULTS.successful)
              & (s2.result == diffrax.RESULTS.successful))
        return t2, p, ok, n_a + sb.stats["num_steps"] * 1000 + s2.stats["num_steps"] * 1000000

    n_k = k.shape[0]
    n_g = max(1, min(int(tp.k_groups), n_k))
    size = -(-n_k // n_g)
    kp = jnp.concatenate([k, jnp.broadcast_to(k[-1:], (n_g * size - n_k,))]).reshape(n_g, size)
    t2, p, ok, n_steps = jax.lax.map(jax.vmap(one), kp)
    cut = lambda v: v.reshape((n_g * size,) + v.shape[2:])[:n_k]  # noqa: E731
    return {"t2": cut(t2), "p": cut(p)}, cut(ok), cut(n_steps)


# ----------------------------------------------------------------------------------------------------------
# k sampling (CLASS perturbations_get_k_list, tensor mode: linear steps only, up to k_max_cmb)


def class_tensor_k_list(tau0, rs_rec, H0, l_max_tensors: int, rule=None) -> np.ndarray:
    """CLASS's tensor k list (flat; numpy): k_min = k_min_tau0/tau0, then CLASS's linear step rule while
    k < k_max_cmb = k_max_tau0_over_l_max l_max_tensors / tau0 (the last point is the first k >= k_max_cmb)."""
    from .sampling import KSamplingRule, class_k_list

    rule = rule or KSamplingRule()
    return class_k_list(tau0, rs_rec, H0, 0.0, l_max_tensors, rule, lensing=False)


def tensor_k_grid(tau0, rs_rec, H0, l_max_tensors: int, n_k: int, rule=None):
    """CLASS's tensor k list padded to the static n_k (jit-able, under stop_gradient): the same recursion
    (sampling._k_step) run for n_k - 1 steps.  Returns (k, n_eff): k[:n_eff] is CLASS's list (its last
    point the first k >= k_max_cmb), the rest continues with CLASS's step beyond k_max_cmb."""
    from .sampling import KSamplingRule, _k_step

    rule = rule or KSamplingRule()
    tau0, rs_rec, H0 = (jax.lax.stop_gradient(jnp.asarray(v, dtype=float)) for v in (tau0, rs_rec, H0))
    k_rec = 2.0 * jnp.pi / rs_rec
    s = H0 * H0
    k_min = rule.k_min_tau0 / tau0
    k_cmb = rule.k_max_tau0_over_l_max * l_max_tensors / tau0

    def step(kk, _):
        kn = kk + _k_step(kk, k_rec, s, rule)
        return kn, kn

    _, rest = jax.lax.scan(step, k_min, None, length=n_k - 1)
    k = jnp.concatenate([k_min[None], rest])
    n_eff = jnp.sum(k < k_cmb) + 1  # points while k < k_cmb, then the first k >= k_cmb
    return k, n_eff


__all__ = ["TENSOR_SOURCE_NAMES", "TensorLayout", "TensorPrecision", "class_tensor_k_list", "derivs_tau",
           "initial_state", "solve_sources", "start_lna", "tensor_k_grid"]
