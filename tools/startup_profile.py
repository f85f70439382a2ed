"""Start-up cost of `pipeline.linear_power` in a fresh process: Python trace, lowering, XLA compile, warm call.

Run with an empty compilation cache for the cold numbers:
    BOLTZAX_CACHE_DIR=$(mktemp -d) python tools/startup_profile.py --preset default [--cosmo fid] [--save out.npz]
``--profile N`` prints the N most expensive functions of a cProfile of the trace.  Used for issue 12 (session 5).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

import jax
import numpy as np

import boltzax
from boltzax.pipeline import _linear_power as linear_power, compute
from boltzax.precision import get_precision
from boltzax.testing import reference_params


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="default")
    ap.add_argument("--cosmo", default="fid")
    ap.add_argument("--kmax", type=float, default=5.0)
    ap.add_argument("--save", default=None)
    ap.add_argument("--profile", type=int, default=0)
    a = ap.parse_args()
    print("boltzax from", boltzax.__file__)
    params = reference_params(a.cosmo)
    prec = get_precision(a.preset)
    z = (0.0, 0.5, 1.0, 2.0)
    res = compute(params, prec)
    jax.block_until_ready(res)
    t0 = time.perf_counter()
    c0 = time.process_time()
    if a.profile:
        pr = cProfile.Profile()
        pr.enable()
    traced = linear_power.trace(res, prec, z, a.kmax)
    if a.profile:
        pr.disable()
    t1 = time.perf_counter()
    c1 = time.process_time()
    lowered = traced.lower()
    t2 = time.perf_counter()
    compiled = lowered.compile()
    t3 = time.perf_counter()
    c3 = time.process_time()
    out = compiled(res, a.kmax)
    jax.block_until_ready(out)
    t4 = time.perf_counter()
    ws = []
    for _ in range(3):
        s = time.perf_counter()
        jax.block_until_ready(compiled(res, a.kmax))
        ws.append(time.perf_counter() - s)
    print(f"trace {t1 - t0:.2f} s  lower {t2 - t1:.2f} s  compile {t3 - t2:.2f} s  first run {t4 - t3:.2f} s  "
          f"warm {min(ws):.3f} s  (cpu: trace {c1 - c0:.2f} s, lower+compile {c3 - c1:.2f} s)")
    if a.save:
        leaves = jax.tree_util.tree_leaves(out)
        np.savez(a.save, *[np.asarray(x) for x in leaves])
    if a.profile:
        pstats.Stats(pr).sort_stats("tottime").print_stats(a.profile)
        pstats.Stats(pr).sort_stats("cumulative").print_stats(a.profile)


if __name__ == "__main__":
    main()
