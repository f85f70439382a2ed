"""Benchmark: background + thermodynamics, boltzax vs CLASS (``output =`` empty), in one run.

Prints warm times (best of N in-process), cold times (fresh process, empty / warm compile cache) and
peak memory, with ratios boltzax/CLASS. Run: ``make bench`` or ``python bench/bench_background.py``.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from _harness import best_of, cold_runs, have_classy, run_snippet, table  # noqa: E402

COSMO = {"h": 0.6732, "omega_b": 0.02238, "omega_cdm": 0.1201, "N_ur": 2.0328, "N_ncdm": 1, "m_ncdm": 0.06,
         "tau_reio": 0.0543}

BOLTZAX_SNIPPET = f"""
import boltzax, jax
p, _ = boltzax.from_class_dict({COSMO!r} | {{'recombination': '{{rec}}'}})
t = time.perf_counter(); r = boltzax.compute(p); jax.block_until_ready(r); first = time.perf_counter() - t
_out = {{'first_call_s': first}}
"""

CLASS_SNIPPET = f"""
from classy import Class
c = Class(); c.set({COSMO!r} | {{'output': '', 'recombination': '{{rec}}'}})
t = time.perf_counter(); c.compute(); first = time.perf_counter() - t
_out = {{'first_call_s': first}}
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--recombination", default="hyrec", choices=["hyrec", "recfast"])
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    import jax

    import boltzax

    p, _ = boltzax.from_class_dict(COSMO | {"recombination": a.recombination})
    boltzax.compute(p)  # compile
    t_bx = best_of(lambda: jax.block_until_ready(boltzax.compute(p)), a.repeat)
    empty, warmc = cold_runs(BOLTZAX_SNIPPET.replace("{rec}", a.recombination))
    rows = []
    if have_classy():
        from classy import Class

        c = Class()
        c.set(COSMO | {"output": "", "recombination": a.recombination})

        def run_class():
            c.struct_cleanup()
            c.compute()

        t_cl = best_of(run_class, a.repeat)
        cl_cold = run_snippet(CLASS_SNIPPET.replace("{rec}", a.recombination))
        rows.append(("warm, in-process [s]", f"{t_bx:.4f}", f"{t_cl:.4f}", f"{t_bx / t_cl:.2f}"))
        rows.append(("cold, empty cache [s]", f"{empty['process_s']:.2f}", f"{cl_cold['process_s']:.2f}",
                     f"{empty['process_s'] / cl_cold['process_s']:.1f}"))
        rows.append(("cold, warm cache [s]", f"{warmc['process_s']:.2f}", f"{cl_cold['process_s']:.2f}",
                     f"{warmc['process_s'] / cl_cold['process_s']:.1f}"))
        rows.append(("peak RSS [MB]", f"{warmc['maxrss_MB']:.0f}", f"{cl_cold['maxrss_MB']:.0f}",
                     f"{warmc['maxrss_MB'] / cl_cold['maxrss_MB']:.1f}"))
    else:
        rows.append(("warm, in-process [s]", f"{t_bx:.4f}", "n/a (no classy)", "-"))
        rows.append(("cold, empty cache [s]", f"{empty['process_s']:.2f}", "-", "-"))
        rows.append(("cold, warm cache [s]", f"{warmc['process_s']:.2f}", "-", "-"))
    print(f"background + thermodynamics ({a.recombination}), cosmology {COSMO}")
    print(f"(cold = fresh process incl. imports; first call in that process: empty cache "
          f"{empty['first_call_s']:.2f} s, warm cache {warmc['first_call_s']:.2f} s)")
    print(table(rows))


if __name__ == "__main__":
    main()
