"""Integration of the scalar perturbations for a set of wavenumbers.

Independent variable x = ln a.  Each mode starts at tau_ini = min(k_tau_ini / k, tau_max_ini) (super-horizon,
radiation era) from the adiabatic series (initial.py) and is integrated with an L-stable ESDIRK method
(diffrax Kvaerno5, adaptive PID step control) in three segments: the full Boltzmann hierarchy until
tau_ufa = 30 / k (CLASS ur_fluid_trigger_tau_over_tau_k), the massless-neutrino fluid approximation until the
radiation-streaming switch tau_rsa = max(45 / k, tau_free_streaming) (CLASS precisions.h
radiation_streaming_trigger_tau_over_tau_k = 45, trigger_tau_c_over_tau = 5), then the RSA system.
The system is linear in y, so Newton converges in one iteration (the Jacobian is exact).
"""

from __future__ import annotations

import diffrax
import jax
import jax.numpy as jnp
import optimistix as optx

from .equations import Layout, derivs_lna, matter_outputs
from .initial import adiabatic_ic

LNA_END = 0.005  # integrate slightly past a = 1 so that z = 0 is an interior save point


def _solver(prec):
    return diffrax.Kvaerno5(root_finder=optx.Newton(rtol=1e-3, atol=1e-3))


def solve_mode(k, lna_out, tab, prec):
    """delta_m(k) and delta_cb(k) at the output ln a values lna_out (increasing, <= 0)."""
    lay = Layout(prec.l_max_g, prec.l_max_pol, prec.l_max_ur)
    tau_ini = jnp.minimum(prec.k_tau_ini / k, prec.tau_ini_max)
    lna_ini = tab.lna_of_tau(tau_ini)
    bg0 = tab.at(lna_ini)
    bg0 = dict(bg0, tau=tau_ini)
    y0 = adiabatic_ic(k, tau_ini, bg0, lay)

    tau_rsa = jnp.maximum(prec.rsa_k_tau / k, tab.tau_fs)
    lna_sw = jnp.minimum(tab.lna_of_tau(tau_rsa), LNA_END - 1e-3)
    if prec.ur_fluid:
        # CLASS ur_fluid_trigger_tau_over_tau_k = 30 < 45: the fluid phase always precedes the RSA
        lna_uf = jnp.minimum(tab.lna_of_tau(prec.ufa_k_tau / k), lna_sw - 1e-6)
    else:
        lna_uf = lna_sw - 1e-6

    solver = _solver(prec)

    def run(mode, t0, t1, y0, ts):
        term = diffrax.ODETerm(lambda x, y, args: derivs_lna(x, y, k, tab, lay, mode))
        ts = jnp.clip(ts, t0, t1)
        # steps land on the output times: no dense-output interpolation error
        ctrl = diffrax.PIDController(rtol=prec.rtol, atol=prec.atol, step_ts=ts)
        sol = diffrax.diffeqsolve(term, solver, t0, t1, dt0=None, y0=y0, stepsize_controller=ctrl,
                                  saveat=diffrax.SaveAt(ts=ts, t1=True), max_steps=prec.max_steps,
                                  throw=False)
        return sol.ys[:-1], sol.ys[-1], sol.stats["num_steps"]

    ys0, y_uf, n0 = run(0, lna_ini, lna_uf, y0, lna_out)
    ys1, y_sw, n1 = run(1 if prec.ur_fluid else 0, lna_uf, lna_sw, y_uf, lna_out)
    ys2, _, n2 = run(2, lna_sw, LNA_END, y_sw, lna_out)
    ys = jnp.where((lna_out <= lna_uf)[:, None], ys0, jnp.where((lna_out <= lna_sw)[:, None], ys1, ys2))
    n1 = n0 + n1

    def outs(lna, y):
        return matter_outputs(y, k, tab.at(lna), lay)

    d_m, d_cb = jax.vmap(outs)(lna_out, ys)
    return d_m, d_cb, n1 + n2
