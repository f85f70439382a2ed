"""Benchmark: the HMcode step against the linear P(k) it needs, boltzax and CLASS, in one run.

boltzax: warm time of `compute` + `linear_power` (default precision, P_k_max 5 /Mpc, z = 0, 0.5, 1, 2, the
solve extended to CLASS's k_last as for non_linear) and warm time of the HMcode stage (`hmcode.hmcode_pk`,
P_m and P_cb, the four redshifts, version 2020) on that table: the issue's target is HMcode <= 10 % of the
linear P(k) time.  CLASS (when classy is installed): ``output = mPk`` with and without
``non_linear = hmcode`` (same z, k), the difference being CLASS's HMcode time.
Run: ``python bench/bench_hmcode.py [--repeat N] [--precision default]``.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from _harness import best_of, have_classy, table  # noqa: E402


def best_cpu(fn, repeat: int) -> float:
    """Minimum process CPU time of ``fn()`` over ``repeat`` calls [s] (all threads: on a shared machine the
    wall time includes waiting for the cores, the CPU time does not)."""
    import time

    out = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        out.append(time.process_time() - t0)
    return min(out)

COSMO = {"h": 0.6732, "omega_b": 0.02238, "omega_cdm": 0.1201, "N_ur": 2.0328, "N_ncdm": 1, "m_ncdm": 0.06,
         "tau_reio": 0.0543, "A_s": 2.1e-9, "n_s": 0.9661}
PK = {"output": "mPk", "P_k_max_1/Mpc": 5.0, "z_pk": "0, 0.5, 1, 2"}
Z = (0.0, 0.5, 1.0, 2.0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--precision", default="default")
    a = ap.parse_args()
    import jax
    import numpy as np

    import boltzax
    from boltzax.classy_api.nonlinear_hmcode import hmcode_nodes, k_nodes
    from boltzax.nonlinear.halofit import HalofitPrecision, class_k_range
    from boltzax.params import HMcodeOptions
    from boltzax.pipeline import compute, linear_power

    params, _ = boltzax.from_class_dict(COSMO)
    prec = boltzax.get_precision(a.precision)
    res = compute(params, prec)
    _, k_last = class_k_range(res, 5.0, HalofitPrecision())
    k_max = float(k_last) * (1 + 1e-12)

    def run_linear():
        r = compute(params, prec)
        return jax.block_until_ready(linear_power(r, prec, Z, k_max))

    lp = run_linear()
    t_lin = best_of(run_linear, a.repeat)
    c_lin = best_cpu(run_linear, a.repeat)
    opts = HMcodeOptions()
    nodes = k_nodes(res, 5.0)

    def run_hm():
        for cb in (False, True):
            _, p, st = hmcode_nodes(res, lp, opts, np.asarray(Z), 5.0, cb, nodes)
            jax.block_until_ready(st)

    run_hm()
    t_hm = best_of(run_hm, a.repeat)
    c_hm = best_cpu(run_hm, a.repeat)
    t_cl = t_cl_hm = None
    if have_classy():
        from classy import Class

        def run_class(nl):
            c = Class()
            c.set(COSMO | PK | ({"non_linear": "hmcode"} if nl else {}))
            c.compute()
            c.struct_cleanup()

        run_class(False)
        t_cl = best_of(lambda: run_class(False), a.repeat)
        t_cl_hm = best_of(lambda: run_class(True), a.repeat) - t_cl
        c_cl = best_cpu(lambda: run_class(False), a.repeat)
        c_cl_hm = best_cpu(lambda: run_class(True), a.repeat) - c_cl
    na = "n/a"
    rows = [("linear P(k) (bg + thermo + perturbations + P)", f"{t_lin:.3f} s", f"{t_cl:.3f} s" if t_cl else na,
             f"{t_lin / t_cl:.2f}" if t_cl else na),
            ("HMcode 2020 step (P_m and P_cb, 4 z)", f"{t_hm:.3f} s", f"{t_cl_hm:.3f} s" if t_cl else na,
             f"{t_hm / t_cl_hm:.2f}" if t_cl else na),
            ("HMcode / linear", f"{100 * t_hm / t_lin:.1f} %", f"{100 * t_cl_hm / t_cl:.1f} %" if t_cl else na, "")]
    print(table(rows))
    print(f"CPU time: boltzax linear {c_lin:.3f} s, HMcode {c_hm:.3f} s ({100 * c_hm / c_lin:.1f} %)"
          + (f"; CLASS linear {c_cl:.3f} s, HMcode {c_cl_hm:.3f} s ({100 * c_cl_hm / c_cl:.1f} %)" if t_cl else ""))


if __name__ == "__main__":
    main()
