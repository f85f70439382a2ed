"""Robustness sweep (issue 17): random cosmologies in the issue's box and 20 % beyond its edges.

For every point, through `boltzax.Class` at the "fast" preset: either finite, positive P(k, z) and sigma8,
or a `CosmoSevereError` / `CosmoComputationError` whose message names a parameter of the point (``'name'``)
or the cosmology (``cosmology:``).  Anything else is a failure of the sweep: a silent NaN/inf, an error of
another type, an error that names nothing.

    python tools/robustness_sweep.py [--n 320] [--seed 17] [--grad 20]

Writes docs/sweeps/robustness_sweep.csv (one row per point) and docs/sweeps/robustness_sweep.json (counts,
settings, timings; with --grad also the forward-mode gradient sweep of sigma8).  Exit status 1 when a point
fails.  Box (issue 17): h 0.55-0.85, omega_b 0.019-0.026, omega_cdm 0.08-0.16, ln10^10 A_s 2.7-3.3, n_s
0.88-1.04, tau_reio 0.02-0.12, m_ncdm 0-1 eV in 1-3 species, N_ur 1-5, w0 -1.5 to -0.5, wa -1 to 0.5,
Omega_k -0.1 to 0.1, r 0-0.3; each value drawn uniformly in the interval widened by 20 % of its width on
both sides.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time

import numpy as np

from boltzax.testing import ROBUSTNESS_BOX as BOX, ROBUSTNESS_M_NCDM as M_NCDM, ROBUSTNESS_WIDEN as WIDEN  # noqa: E402

K_TEST = (1e-4, 1e-3, 0.01, 0.1, 0.5, 1.0)
Z_TEST = (0.0, 1.0)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "docs", "sweeps")


def draw(rng: np.random.Generator) -> dict:
    """One CLASS input dict: every box parameter and 1-3 ncdm species, each drawn in the widened box."""
    def u(lo, hi):
        pad = WIDEN * (hi - lo)
        return float(rng.uniform(lo - pad, hi + pad))

    d = {n: round(u(*b), 6) for n, b in BOX.items()}
    n = int(rng.integers(1, 4))
    d.update({"N_ncdm": n, "m_ncdm": ", ".join(f"{u(*M_NCDM):.5f}" for _ in range(n)), "Omega_Lambda": 0.0,
              "output": "mPk", "P_k_max_1/Mpc": 1.0, "z_max_pk": 1.0, "modes": "s, t"})
    return d


def run_point(d: dict, precision: str) -> tuple[str, str, float]:
    """(outcome, message, sigma8): outcome ok | severe_named | computation_named | severe_unnamed |
    computation_unnamed | nan | other."""
    from boltzax import Class, CosmoComputationError, CosmoSevereError

    c = Class(precision=precision)
    c.set(d)
    try:
        c.compute()
        s8 = c.sigma8()
        k_lo = float(np.min(c.get_pk_and_k_and_z()[1]))  # closed space: CLASS's first mode sqrt((8 - 1e-4) K)
        pk = np.array([[c.pk_lin(max(k, k_lo), z) for k in K_TEST] for z in Z_TEST])
    except (CosmoSevereError, CosmoComputationError) as e:
        msg = str(e)
        named = any(f"'{n}'" in msg for n in d) or "cosmology:" in msg
        kind = "severe" if isinstance(e, CosmoSevereError) else "computation"
        return f"{kind}_{'named' if named else 'unnamed'}", msg, math.nan
    except Exception as e:  # noqa: BLE001  (a sweep failure, recorded)
        return "other", f"{type(e).__name__}: {e}", math.nan
    if not (np.isfinite(s8) and np.all(np.isfinite(pk)) and np.all(pk > 0)):
        return "nan", f"sigma8 = {s8}, P = {pk.ravel().tolist()}", float(s8)
    return "ok", "", float(s8)


def gradient_sweep(points: list[dict], precision: str) -> dict:
    """Forward-mode d sigma8 / d(h, omega_cdm, omega_b, n_s) at valid points (native API): all finite?"""
    import jax
    import jax.numpy as jnp

    from boltzax import compute, from_class_dict, get_precision
    from boltzax.pipeline import linear_power

    prec = get_precision(precision)
    names = ("h", "omega_b", "omega_cdm", "n_s")
    rows = []
    for d in points:
        params, _ = from_class_dict(d, unread="ignore")

        def s8(x, params=params):
            p = params.replace(**{n: x[i] for i, n in enumerate(names)})
            res = compute(p, prec)
            lp = linear_power(res, prec, (0.0,), 1.0)
            return lp.sigma(8.0 / p.h)

        x0 = jnp.array([float(getattr(params, n)) for n in names])
        t = time.time()
        g = np.asarray(jax.jacfwd(s8)(x0))
        rows.append({"point": {n: float(x0[i]) for i, n in enumerate(names)}, "grad": g.tolist(),
                     "finite": bool(np.all(np.isfinite(g))), "seconds": round(time.time() - t, 1)})
        print(f"grad {len(rows)}: {g} {rows[-1]['seconds']} s", flush=True)
    return {"names": names, "n": len(rows), "all_finite": all(r["finite"] for r in rows), "rows": rows}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=320)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--precision", default="fast")
    ap.add_argument("--grad", type=int, default=0, help="also a gradient sweep at this many valid points")
    ap.add_argument("--out", default=OUT)
    a = ap.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    points = [draw(rng) for _ in range(a.n)]
    os.makedirs(a.out, exist_ok=True)
    rows, t0 = [], time.time()
    with open(os.path.join(a.out, "robustness_sweep.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["index", "outcome", "sigma8", "seconds", "message", "input"])
        for i, d in enumerate(points):
            t = time.time()
            outcome, msg, s8 = run_point(d, a.precision)
            rows.append(outcome)
            w.writerow([i, outcome, f"{s8:.6g}", f"{time.time() - t:.1f}", msg[:300], json.dumps(d)])
            f.flush()
            print(f"{i:4d} {outcome:18s} {time.time() - t:6.1f}s {msg[:140]}", flush=True)
    counts = {k: rows.count(k) for k in sorted(set(rows))}
    summary = {"n": a.n, "seed": a.seed, "precision": a.precision, "box": BOX, "m_ncdm": M_NCDM, "widen": WIDEN,
               "counts": counts, "silent_nan": counts.get("nan", 0), "seconds": round(time.time() - t0)}
    if a.grad:
        ok = [d for d, o in zip(points, rows) if o == "ok"][: a.grad]
        summary["gradients"] = gradient_sweep(ok, a.precision)
    with open(os.path.join(a.out, "robustness_sweep.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps({k: v for k, v in summary.items() if k != "gradients"}, indent=1))
    bad = sum(counts.get(k, 0) for k in ("nan", "other", "severe_unnamed", "computation_unnamed"))
    if a.grad and not summary["gradients"]["all_finite"]:
        bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
