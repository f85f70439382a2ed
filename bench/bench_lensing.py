"""Benchmark: the lensing step alone (unlensed C_l -> lensed TT, EE, TE, BB to l = 2500), boltzax vs CLASS.

boltzax: ``lensing.lensed_cl_jit`` on CLASS's own unlensed C_l (``tests/reference/lensing/fid.npz``, l <=
3325), CLASS's default fast method with CLASS's nodes, the same at every l, and the accurate method
(l <= 3750). Warm = best of N in-process; cold = first call in a fresh process (empty / warm compilation
cache).  CLASS: classy has no per-stage timer, so ``bench/class_lensing_timer.c`` (build line in its
header) runs CLASS up to harmonic_init and times lensing_init alone (best of N, 1 thread and all threads;
the ratio column uses 1 thread, boltzax runs on XLA's default threads). Without that binary the CLASS
time is t(lensing = yes) - t(lensing = no, l_max_scalars + delta_l_max) through classy, which is useless
on a loaded machine (two ~3 s runs differing by 0.1-0.3 s).
Run: ``python bench/bench_lensing.py [--repeat N] [--no-cold] [--class-timer PATH]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from _harness import best_of, cold_runs, have_classy, table  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..")
REF = os.path.join(ROOT, "tests", "reference", "lensing")


def _snippet(name: str, accurate: bool, nodes: bool) -> str:
    return f"""
import numpy as np, jax, boltzax
from boltzax.lensing import lensed_cl_jit
from boltzax.precision import LensingPrecision
r = np.load({os.path.join(REF, name + '.npz')!r})
cl = {{k: r['unlensed_' + k] for k in ('tt', 'ee', 'te', 'bb', 'pp', 'tp')}}
p = LensingPrecision(accurate={accurate}, delta_l_max=int(r['meta/delta_l_max']))
nodes = tuple(int(n) for n in r['l_nodes']) if {nodes} else None
t = time.perf_counter(); jax.block_until_ready(lensed_cl_jit(cl, l_max=2500, precision=p, l_nodes=nodes))
_out = {{'first_call_s': time.perf_counter() - t}}
"""


def _class_lensing_time(inp: dict, timer: str | None, repeat: int) -> str:
    """CLASS's lensing_init time: from bench/class_lensing_timer.c when built (best of N, 1 thread and all
    threads), else t(lensing=yes) - t(lensing=no with l_max_scalars + delta_l_max) through classy."""
    if timer and os.path.exists(timer):
        with tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False) as f:
            f.write("\n".join(f"{k} = {v}" for k, v in inp.items()) + "\n")
        res = {}
        for th in ("1", str(os.cpu_count())):
            out = subprocess.run([timer, f.name, str(repeat)], capture_output=True, text=True,
                                 env=dict(os.environ, OMP_NUM_THREADS=th), check=True)
            res[th] = json.loads(out.stdout.strip().splitlines()[-1])["lensing_init_best_s"]
        os.unlink(f.name)
        return res["1"], f"{res['1']:.3f} (1 thread), {res[str(os.cpu_count())]:.3f} ({os.cpu_count()} threads)"
    from classy import Class

    on, off = Class(), Class()
    on.set(inp)
    on.compute()
    delta = on.raw_cl()["ell"][-1] - int(inp["l_max_scalars"])
    off.set({**{k: v for k, v in inp.items() if k not in ("lensing", "accurate_lensing", "delta_l_max")},
             "l_max_scalars": int(inp["l_max_scalars"]) + delta})

    def run(c):
        c.struct_cleanup()
        c.compute()

    t_on = best_of(lambda: run(on), repeat)
    t_off = best_of(lambda: run(off), repeat)
    return t_on - t_off, f"{t_on - t_off:.3f} ({t_on:.2f} - {t_off:.2f}, classy difference)"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-cold", action="store_true")
    ap.add_argument("--class-timer", default="/tmp/class_lensing_timer",
                    help="binary built from bench/class_lensing_timer.c (else the classy difference method)")
    a = ap.parse_args()
    import jax
    import numpy as np

    sys.path.insert(0, ROOT)
    from boltzax.lensing import lensed_cl_jit
    from boltzax.precision import LensingPrecision

    cases = (("fast, CLASS nodes", "fid", False, True), ("fast, every l", "fid", False, False),
             ("accurate, CLASS nodes", "fid_accurate", True, True))
    rows = []
    for label, name, accurate, use_nodes in cases:
        r = np.load(os.path.join(REF, name + ".npz"))
        cl = {k: jax.device_put(r["unlensed_" + k]) for k in ("tt", "ee", "te", "bb", "pp", "tp")}
        p = LensingPrecision(accurate=accurate, delta_l_max=int(r["meta/delta_l_max"]))
        nodes = tuple(int(n) for n in r["l_nodes"]) if use_nodes else None

        def go():
            jax.block_until_ready(lensed_cl_jit(cl, l_max=2500, precision=p, l_nodes=nodes))

        go()
        t_bx = best_of(go, a.repeat)
        t_cl, ratio = "-", "-"
        if use_nodes and (have_classy() or os.path.exists(a.class_timer)):
            dt, t_cl = _class_lensing_time(json.loads(str(r["meta/input"])), a.class_timer, a.repeat)
            ratio = f"{t_bx / dt:.2f}"
        rows.append((f"warm, {label} [s]", f"{t_bx:.3f}", t_cl, ratio))
        if not a.no_cold:
            empty, warm = cold_runs(_snippet(name, accurate, use_nodes))
            rows.append((f"  first call, empty / warm cache [s]",
                         f"{empty['first_call_s']:.1f} / {warm['first_call_s']:.1f}", "-", "-"))
            rows.append(("  peak RSS (fresh process) [MB]", f"{warm['maxrss_MB']:.0f}", "-", "-"))
    print("lensing step, l_max = 2500 (fid; fast: delta_l_max 825, 415 mu points; accurate: 1250, 3750 mu)")
    print(table(rows))


if __name__ == "__main__":
    main()
