"""Time the CMB source solve (perturbations/sources.py) for a few settings of SourcePrecision, warm and CPU time,
and check the settings give the same sources.

    python tools/source_speed.py [--precision fast|default] [--groups 1,4,8] [--kstride 1] [--name fid]

Prints, per setting: compile+first call, warm wall time, warm process CPU time (all threads), and the max
difference of each source against the first setting (relative to that source's peak).
"""
import argparse
import json
import dataclasses
import os
import resource
import sys
import time

import jax
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import boltzax  # noqa: E402
from boltzax.perturbations.sources import default_k, default_tau, scalar_sources  # noqa: E402
from boltzax.pipeline import compute  # noqa: E402
from boltzax.testing import reference_params  # noqa: E402


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--precision", default="default")
    ap.add_argument("--groups", default="1,4")
    ap.add_argument("--sub", default="")
    ap.add_argument("--kstride", type=int, default=1)
    ap.add_argument("--name", default="fid")
    ap.add_argument("--per-k", action="store_true", help="per-k differences (of each k's peak)")
    ap.add_argument("--variants", default="", help="JSON list of SourcePrecision overrides (replaces --groups/--sub)")
    a = ap.parse_args()
    base = boltzax.get_precision(a.precision)
    res = compute(reference_params(a.name), base)
    k = np.asarray(default_k(res, base.sources))[:: a.kstride]
    tau = np.asarray(default_tau(res, base.sources))
    model = os.popen("lscpu | grep 'Model name'").read().strip()
    print(f"{a.name} {a.precision}: {k.size} k x {tau.size} tau; {model}")
    first = None
    subs = [int(s) for s in a.sub.split(",")] if a.sub else [base.sources.sub_steps]
    variants = [dict(sub_steps=sub, k_groups=int(g)) for sub in subs for g in a.groups.split(",")]
    if a.variants:
        variants = json.loads(a.variants)
    for ov in variants:
        prec = dataclasses.replace(base, sources=dataclasses.replace(base.sources, **ov))
        t0 = time.perf_counter()
        s, _, _ = scalar_sources(res, prec, k=k, tau=tau)
        jax.block_until_ready(s)
        t1 = time.perf_counter()
        c0 = cpu()
        s, _, _ = scalar_sources(res, prec, k=k, tau=tau)
        jax.block_until_ready(s)
        t2 = time.perf_counter()
        c1 = cpu()
        s = {n: np.asarray(v) for n, v in s.items()}
        diff = ""
        if first is None:
            first = s
        else:
            diff = " ".join(f"{n} {np.max(np.abs(s[n] - first[n])) / np.max(np.abs(first[n])):.1e}" for n in s)
        print(f"{ov}: first {t1 - t0:.1f} s, warm {t2 - t1:.2f} s (cpu {c1 - c0:.2f} s) {diff}",
              flush=True)
        if a.per_k and diff:
            for i in range(k.size):
                row = " ".join(f"{n} {np.max(np.abs(s[n][i] - first[n][i])) / np.max(np.abs(first[n][i])):.1e}"
                               for n in s)
                print(f"    k {k[i]:.4g}: {row}")


if __name__ == "__main__":
    main()
