"""Long run (issue 12): one process calls `Class.compute` many times over varying cosmologies, as an MCMC chain
or a grid scan does, including changes of static structure (N_ncdm 0-3, w0/wa fluid on and off, both signs
of Omega_k and flat, HyRec and RECFAST), each call on a new `Class` instance.

    python tools/long_run.py [--calls 1000] [--block 20] [--precision fast] [--seed 12] [--out docs/long_run.json]

The calls come in blocks of ``--block`` calls that share one structure (a chain changes structure rarely);
each block draws its structure at random, each call its continuous parameters.  Per call: P(k) at 6 k and
z = 0, 1 and sigma8 must be finite and positive.  Recorded: wall time per call, the process's resident memory
(/proc/self/statm) and memory-mapping count after each call, how often `boltzax.aot.release_if_crowded`
released the compiled programs, peak RSS.  Exit status 1 if any call fails or returns non-finite values.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import numpy as np

K_TEST = (1e-3, 0.01, 0.05, 0.1, 0.3, 1.0)
STRUCTURES = [(n, fld, ok, rec) for n in (0, 1, 2, 3) for fld in (False, True) for ok in (-1, 0, 1)
              for rec in ("HyRec", "RECFAST")]


def rss_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def draw(rng: np.random.Generator, structure) -> dict:
    n, fld, ok, rec = structure
    d = {"h": rng.uniform(0.62, 0.74), "omega_b": rng.uniform(0.021, 0.024), "omega_cdm": rng.uniform(0.10, 0.14),
         "ln10^{10}A_s": rng.uniform(2.9, 3.2), "n_s": rng.uniform(0.93, 1.0), "tau_reio": rng.uniform(0.04, 0.08),
         "N_ncdm": n, "recombination": rec, "output": "mPk", "P_k_max_1/Mpc": 1.0, "z_max_pk": 1.0}
    if n:  # N_eff stays ~3.044 (each ncdm species at CLASS's default T_ncdm adds 1.0132): BBN's table range
        d["m_ncdm"] = ", ".join(f"{rng.uniform(0.02, 0.3):.4f}" for _ in range(n))
        d["N_ur"] = round(3.044 - 1.0132 * n, 4)
    if fld:
        d.update({"Omega_Lambda": 0.0, "w0_fld": rng.uniform(-1.2, -0.8), "wa_fld": rng.uniform(-0.3, 0.3)})
    if ok:
        d["Omega_k"] = ok * rng.uniform(0.01, 0.05)
    return d


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--block", type=int, default=20)
    ap.add_argument("--precision", default="fast")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "docs", "long_run.json"))
    a = ap.parse_args(argv)

    import boltzax
    from boltzax import aot

    rng = np.random.default_rng(a.seed)
    rows, failures, t0 = [], [], time.time()
    structure = None
    for i in range(a.calls):
        if i % a.block == 0:
            structure = STRUCTURES[int(rng.integers(len(STRUCTURES)))]
        d = draw(rng, structure)
        t = time.time()
        try:
            c = boltzax.Class(precision=a.precision)
            c.set(d)
            c.compute()
            p = np.array([[c.pk_lin(k, z) for k in K_TEST] for z in (0.0, 1.0)])
            s8 = c.sigma8()
            ok = bool(np.all(np.isfinite(p)) and np.all(p > 0) and np.isfinite(s8) and s8 > 0)
            msg = "" if ok else "non-finite or non-positive output"
        except Exception as e:  # noqa: BLE001 - every failure is recorded
            ok, msg = False, f"{type(e).__name__}: {e}"
        row = {"i": i, "structure": list(structure), "seconds": round(time.time() - t, 3), "ok": ok,
               "rss_mb": round(rss_mb(), 1), "maps": aot.map_count(), "releases": aot.releases()}
        rows.append(row)
        if not ok:
            failures.append({**row, "message": msg[:300], "input": d})
        if i % 10 == 0 or not ok:
            print(f"{i:5d} {structure} {row['seconds']:7.2f}s rss {row['rss_mb']:7.0f} MB maps {row['maps']} "
                  f"releases {row['releases']} {msg[:120]}", flush=True)
        del c
    rss = np.array([r["rss_mb"] for r in rows])
    summary = {
        "calls": a.calls, "block": a.block, "precision": a.precision, "seed": a.seed, "failures": len(failures),
        "seconds": round(time.time() - t0), "median_call_s": float(np.median([r["seconds"] for r in rows])),
        "rss_mb_first_last_max": [float(rss[0]), float(rss[-1]), float(rss.max())],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "maps_max": max(r["maps"] or 0 for r in rows), "max_map_count": aot.max_map_count(),
        "releases": aot.releases(), "structures_visited": len({tuple(r["structure"]) for r in rows}),
        "failure_rows": failures[:20],
    }
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as fh:
        json.dump({"summary": summary, "rows": rows}, fh, indent=0)
    print(json.dumps({k: v for k, v in summary.items() if k != "failure_rows"}, indent=1))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
