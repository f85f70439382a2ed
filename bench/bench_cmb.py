"""Benchmark: CMB C_l, boltzax (through ``boltzax.Class``) vs CLASS (classy 3.4.1), in one run.

Two cases, the same input for both codes (Planck 2018 point, one 0.06 eV neutrino):
  (a) unlensed TT, EE, TE, phi-phi to l = 2500: ``output = tCl,pCl,lCl``, ``l_max_scalars = 2500``;
  (b) lensed TT, EE, TE, BB to l = 2500 plus P(k) to 1/Mpc: ``output = tCl,pCl,lCl,mPk``, ``lensing = yes``,
      ``P_k_max_1/Mpc = 1``.
Prints warm times (best of N in-process), cold times (fresh process incl. imports, with an empty and with a
filled JAX compilation cache), peak memory, ratios boltzax/CLASS, and a per-stage profile of boltzax's native
chain (each stage jitted on its own, so its compile time is the first call minus the warm call): background +
thermodynamics (``compute``), sources (``scalar_sources``), line of sight + harmonic (``cls_from_sources``: the
q-grid spline of the sources, the Bessel integrals and the k integrals are one jitted program), lensing
(``lensed_cl``).  Run: ``python bench/bench_cmb.py [--repeat N] [--no-cold] [--case a|b|ab]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _harness import best_of, cold_runs, have_classy, run_snippet, table  # noqa: E402

COSMO = {"h": 0.6732, "omega_b": 0.02238, "omega_cdm": 0.1201, "N_ur": 2.0328, "N_ncdm": 1, "m_ncdm": 0.06,
         "tau_reio": 0.0543, "A_s": 2.1e-9, "n_s": 0.9661}
CASES = {
    "a": {"output": "tCl,pCl,lCl", "l_max_scalars": 2500},
    "b": {"output": "tCl,pCl,lCl,mPk", "lensing": "yes", "l_max_scalars": 2500, "P_k_max_1/Mpc": 1.0},
}

BOLTZAX_SNIPPET = """
import boltzax, jax
c = boltzax.Class(); c.set({inp!r})
t = time.perf_counter(); c.compute(); jax.block_until_ready(c._cl); first = time.perf_counter() - t
_out = {{'first_call_s': first, 'tt1000': float(c.raw_cl(1000)['tt'][1000])}}
"""

CLASS_SNIPPET = """
from classy import Class
c = Class(); c.set({inp!r})
t = time.perf_counter(); c.compute(); c.raw_cl(1000); first = time.perf_counter() - t
_out = {{'first_call_s': first, 'tt1000': float(c.raw_cl(1000)['tt'][1000])}}
"""


def stage_profile(repeat: int) -> list[tuple[str, float, float]]:
    """[(stage, first call [s], warm [s])] for case (b)'s chain, each stage jitted separately."""
    import jax

    import boltzax
    from boltzax import cmb
    from boltzax.bessel import bessel_table
    from boltzax.harmonic import cls_from_sources
    from boltzax.lensing import lensed_cl_jit
    from boltzax.perturbations.sources import scalar_sources

    prec = boltzax.get_precision("default")
    params, _ = boltzax.from_class_dict(COSMO)
    l_max = 2500
    l_unl = cmb.unlensed_l_max(l_max, prec, True)
    sprec = cmb.source_precision_for(prec, l_unl)
    tp = cmb.transfer_precision(prec)
    out = []

    def timed(name, fn):
        t = time.perf_counter()
        r = jax.block_until_ready(fn())
        first = time.perf_counter() - t
        warm = best_of(lambda: jax.block_until_ready(fn()), repeat)
        out.append((name, first, warm))
        return r

    res = timed("background + thermodynamics", lambda: boltzax.compute(params, prec))
    t = time.perf_counter()
    sizes = cmb.static_grid_sizes(prec, l_unl)
    table_ = bessel_table(sizes.ls, sizes.x_max, tp.hyper_sampling_flat, tp.hyper_x_min).arrays()
    out.append(("grid sizes + Bessel table (host, once)", time.perf_counter() - t, 0.0))
    src, k, tau = timed("sources (perturbations)", lambda: scalar_sources(res, sprec))
    th, bg, p = res.thermo, res.background, res.params
    tcut = cmb.tau_cut(res)
    unl, _ = timed("line of sight + harmonic", lambda: cls_from_sources(
        src, k, tau, bg.conformal_age, th.tau_rec, th.ra_rec, tcut, p.A_s, p.n_s, p.alpha_s, p.k_pivot, table_,
        sizes=sizes, prec=tp))
    timed("lensing", lambda: lensed_cl_jit(unl, l_max, cmb.lensing_precision(prec), l_nodes=sizes.ls))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--no-cold", action="store_true", help="skip the fresh-process (cold) timings")
    ap.add_argument("--no-profile", action="store_true", help="skip the per-stage profile")
    ap.add_argument("--case", default="ab", help="a, b or ab")
    a = ap.parse_args()
    import jax

    import boltzax

    for case in a.case:
        inp = COSMO | CASES[case]
        c = boltzax.Class()
        c.set(inp)
        t = time.perf_counter()
        c.compute()
        jax.block_until_ready(c._cl)
        t_first = time.perf_counter() - t

        def run_bx():
            c.struct_cleanup()
            c.compute()
            jax.block_until_ready(c._cl)

        t_bx = best_of(run_bx, a.repeat)
        tt_bx = float(c.raw_cl(1000)["tt"][1000])
        rows = [("first call in this process [s]", f"{t_first:.1f}", "-", "-")]
        if not a.no_cold:
            empty, warmc = cold_runs(BOLTZAX_SNIPPET.format(inp=inp))
        if have_classy():
            from classy import Class

            cl = Class()
            cl.set(inp)

            def run_class():
                cl.struct_cleanup()
                cl.compute()
                cl.raw_cl(1000)

            run_class()
            t_cl = best_of(run_class, a.repeat)
            rows.append(("warm, in-process [s]", f"{t_bx:.2f}", f"{t_cl:.2f}", f"{t_bx / t_cl:.2f}"))
            if not a.no_cold:
                cc = run_snippet(CLASS_SNIPPET.format(inp=inp))
                rows.append(("cold, empty cache [s]", f"{empty['process_s']:.1f}", f"{cc['process_s']:.2f}",
                             f"{empty['process_s'] / cc['process_s']:.1f}"))
                rows.append(("cold, filled cache [s]", f"{warmc['process_s']:.1f}", f"{cc['process_s']:.2f}",
                             f"{warmc['process_s'] / cc['process_s']:.1f}"))
                rows.append(("peak RSS [MB]", f"{warmc['maxrss_MB']:.0f}", f"{cc['maxrss_MB']:.0f}",
                             f"{warmc['maxrss_MB'] / cc['maxrss_MB']:.1f}"))
            tt_cl = float(cl.raw_cl(1000)["tt"][1000])
            rows.append(("C_1000^TT (unlensed)", f"{tt_bx:.6e}", f"{tt_cl:.6e}", f"{tt_bx / tt_cl:.5f}"))
        else:
            rows.append(("warm, in-process [s]", f"{t_bx:.2f}", "n/a (no classy)", "-"))
        print(f"\ncase ({case}): {CASES[case]}, cosmology {COSMO}")
        print(table(rows), flush=True)
    if not a.no_profile:
        print("\nboltzax per-stage profile, case (b) chain (each stage jitted separately; compile = first - warm):")
        print(f"{'stage':<40}{'first call [s]':>16}{'warm [s]':>12}{'compile [s]':>14}")
        for name, first, warm in stage_profile(a.repeat):
            print(f"{name:<40}{first:>16.2f}{warm:>12.3f}{first - warm:>14.1f}")


if __name__ == "__main__":
    main()
