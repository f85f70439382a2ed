"""Benchmark: linear matter power spectrum, boltzax vs CLASS (``output = mPk``), in one run.

Both codes compute background, thermodynamics, perturbations and P(k, z) for P_k_max_1/Mpc = 5 and
z_max_pk = 2 (classy: ``Class().set({..., 'output': 'mPk', 'P_k_max_1/Mpc': 5, 'z_max_pk': 2}).compute()``).
boltzax runs the same classy-compatible path (`boltzax.Class`, which calls `pipeline.compute` and
`pipeline.linear_power`); the native call ``linear_power(res, precision, (0, 0.5, 1, 2), 5)`` after
``compute(params)`` is timed too.  Prints warm times (best of N in-process), cold times (fresh process,
empty / warm compilation cache), peak memory, and ratios boltzax/CLASS.
Run: ``make bench`` or ``python bench/bench_pk.py [--repeat N] [--precision default] [--no-cold]``.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from _harness import best_of, cold_runs, have_classy, run_snippet, table  # noqa: E402

COSMO = {"h": 0.6732, "omega_b": 0.02238, "omega_cdm": 0.1201, "N_ur": 2.0328, "N_ncdm": 1, "m_ncdm": 0.06,
         "tau_reio": 0.0543, "A_s": 2.1e-9, "n_s": 0.9661}
PK = {"output": "mPk", "P_k_max_1/Mpc": 5.0, "z_max_pk": 2.0}

BOLTZAX_SNIPPET = f"""
import boltzax, jax
c = boltzax.Class(); c.set({COSMO!r} | {PK!r})
t = time.perf_counter(); c.compute(); jax.block_until_ready(c._pk); first = time.perf_counter() - t
_out = {{'first_call_s': first, 'sigma8': float(c.sigma8)}}
"""

CLASS_SNIPPET = f"""
from classy import Class
c = Class(); c.set({COSMO!r} | {PK!r})
t = time.perf_counter(); c.compute(); first = time.perf_counter() - t
_out = {{'first_call_s': first, 'sigma8': float(c.sigma8())}}
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-cold", action="store_true", help="skip the fresh-process (cold) timings")
    ap.add_argument("--precision", default="default", help="boltzax precision preset of the native timings")
    a = ap.parse_args()
    import jax

    import boltzax
    from boltzax.pipeline import compute, linear_power

    # warm, classy-compatible path
    c = boltzax.Class()
    c.set(COSMO | PK)
    c.compute()  # compile

    def run_bx():
        c.struct_cleanup()
        c.compute()
        jax.block_until_ready(c._pk)

    t_bx = best_of(run_bx, a.repeat)
    s8_bx = float(c.sigma8)
    # warm, native path: compute + linear_power at 4 redshifts
    params, _ = boltzax.from_class_dict(COSMO)
    prec = boltzax.get_precision(a.precision)

    def run_native():
        res = compute(params, prec)
        jax.block_until_ready(linear_power(res, prec, (0.0, 0.5, 1.0, 2.0), PK["P_k_max_1/Mpc"]))

    run_native()
    t_nat = best_of(run_native, a.repeat)
    res = compute(params, prec)
    jax.block_until_ready(res)
    t_lp = best_of(lambda: jax.block_until_ready(linear_power(res, prec, (0.0, 0.5, 1.0, 2.0), 5.0)), a.repeat)
    if not a.no_cold:
        empty, warmc = cold_runs(BOLTZAX_SNIPPET)
    rows = []
    if have_classy():
        from classy import Class

        cl = Class()
        cl.set(COSMO | PK)

        def run_class():
            cl.struct_cleanup()
            cl.compute()

        run_class()
        t_cl = best_of(run_class, a.repeat)
        s8_cl = float(cl.sigma8())
        rows.append(("warm, in-process [s]", f"{t_bx:.3f}", f"{t_cl:.3f}", f"{t_bx / t_cl:.2f}"))
        rows.append(("warm, compute + linear_power(4 z) [s]", f"{t_nat:.3f}", f"{t_cl:.3f}", f"{t_nat / t_cl:.2f}"))
        if not a.no_cold:
            cl_cold = run_snippet(CLASS_SNIPPET)
            rows.append(("cold, empty cache [s]", f"{empty['process_s']:.1f}", f"{cl_cold['process_s']:.2f}",
                         f"{empty['process_s'] / cl_cold['process_s']:.1f}"))
            rows.append(("cold, warm cache [s]", f"{warmc['process_s']:.1f}", f"{cl_cold['process_s']:.2f}",
                         f"{warmc['process_s'] / cl_cold['process_s']:.1f}"))
            rows.append(("peak RSS [MB]", f"{warmc['maxrss_MB']:.0f}", f"{cl_cold['maxrss_MB']:.0f}",
                         f"{warmc['maxrss_MB'] / cl_cold['maxrss_MB']:.1f}"))
        rows.append(("sigma8", f"{s8_bx:.5f}", f"{s8_cl:.5f}", f"{s8_bx / s8_cl:.5f}"))
    else:
        rows.append(("warm, in-process [s]", f"{t_bx:.3f}", "n/a (no classy)", "-"))
        rows.append(("warm, compute + linear_power(4 z) [s]", f"{t_nat:.3f}", "-", "-"))
        if not a.no_cold:
            rows.append(("cold, empty cache [s]", f"{empty['process_s']:.1f}", "-", "-"))
            rows.append(("cold, warm cache [s]", f"{warmc['process_s']:.1f}", "-", "-"))
            rows.append(("peak RSS [MB]", f"{warmc['maxrss_MB']:.0f}", "-", "-"))
    print(f"linear P(k): output=mPk, P_k_max_1/Mpc = {PK['P_k_max_1/Mpc']}, z_max_pk = {PK['z_max_pk']}, "
          f"cosmology {COSMO}")
    print(f"boltzax: {prec.pk_n_k} modes, default precision; of the warm native time, linear_power alone "
          f"(perturbations + tables) takes {t_lp:.3f} s")
    if not a.no_cold:
        print(f"(cold = fresh process incl. imports; first call in that process: empty cache "
              f"{empty['first_call_s']:.1f} s, warm cache {warmc['first_call_s']:.1f} s)")
    print(table(rows))


if __name__ == "__main__":
    main()
