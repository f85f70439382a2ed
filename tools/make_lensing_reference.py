"""Write CLASS v3.4.1 lensing-step references to ``tests/reference/lensing/<name>.npz`` (needs classy).

Usage: ``python tools/make_lensing_reference.py [--only NAME ...]``.

Each run: output = tCl,pCl,lCl, lensing = yes. Stored (float64, dimensionless raw C_l, index = l):

* ``unlensed_<xy>`` = ``raw_cl(l_max_tot)``: tt, ee, te, bb, pp, tp up to l_max_tot = l_max_scalars +
  delta_l_max (CLASS adds the lensing margin to l_max_scalars in ``input.c``), i.e. exactly the table
  ``lensing_init`` reads through ``harmonic_cl_at_l``;
* ``lensed_<xy>`` = ``lensed_cl(l_max_scalars)``;
* ``l_nodes``: CLASS's multipole sampling (``transfer_get_l_list``; the lensed C_l are computed at these l
  and splined), rebuilt from ``angular_rescaling = ra_rec / (conformal_age - tau_rec)``
  (``thermodynamics.c``) and checked against the places where the fourth difference of the splined
  unlensed C_l^TT is non-zero (a cubic between nodes has a vanishing fourth difference);
* ``meta/*``: the CLASS input (JSON), l_max_scalars, delta_l_max, accurate_lensing, angular_rescaling,
  classy wall time of the whole run.

Runs (cosmologies from ``tools/make_reference.py``): ``fid``, ``lcdm_1`` (0.25 eV), ``tensor_r01`` (BB has
a tensor part), ``ok_pos`` (CLASS's lensing step has no curvature term, but the l sampling is rescaled by
angular_rescaling != 1), all at l_max_scalars = 2500 with CLASS's defaults (fast mode, delta_l_max =
0.33 * 2500 = 825); ``fid_l3000`` (l_max_scalars = 3000, margin 990: the margin study);
``fid_accurate`` (accurate_lensing = 1: Gauss-Legendre quadrature, delta_l_max = 1250);
``fid_dl500`` (fast mode with the pre-3.4 margin delta_l_max = 500).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "reference", "lensing")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))

from make_reference import cosmologies  # noqa: E402

from boltzax.l_sampling import class_l_nodes  # noqa: E402

KEYS = ("tt", "ee", "te", "bb", "pp", "tp")


def runs() -> dict[str, tuple[str, dict]]:
    """name -> (cosmology name, extra CLASS input)."""
    return {
        "fid": ("fid", {}),
        "lcdm_1": ("lcdm_1", {}),
        "tensor_r01": ("tensor_r01", {"l_max_tensors": 600}),
        "ok_pos": ("ok_pos", {}),
        "fid_l3000": ("fid", {"l_max_scalars": 3000}),
        "fid_accurate": ("fid", {"accurate_lensing": 1}),
        "fid_dl500": ("fid", {"delta_l_max": 500}),
    }


def nodes_consistent(cl: np.ndarray, nodes: np.ndarray, tol: float = 1e-9) -> bool:
    """True when CLASS's spline of C_l has no knot between the rebuilt nodes: a cubic has a vanishing
    fourth difference, so every fourth difference whose stencil lies inside one node interval must be
    round-off (relative to the largest C_l)."""
    y = cl / np.max(np.abs(cl[2:]))
    d4 = np.diff(y, 4)  # d4[i] spans l = i .. i + 4
    for a, b in zip(nodes[:-1], nodes[1:]):
        if b - a >= 4 and np.max(np.abs(d4[a:b - 3])) > tol:
            return False
    return True


def make_one(name: str, cosmo: str, extra: dict) -> dict:
    from classy import Class

    inp = {**cosmologies()[cosmo], "output": "tCl,pCl,lCl", "lensing": "yes", "l_max_scalars": 2500, **extra}
    c = Class()
    c.set(inp)
    t0 = time.perf_counter()
    c.compute()
    wall = time.perf_counter() - t0
    l_max = int(inp["l_max_scalars"])
    raw = c.raw_cl()
    l_max_tot = len(raw["ell"]) - 1
    lensed = c.lensed_cl(l_max)
    der = c.get_current_derived_parameters(["ra_rec", "tau_rec", "conformal_age"])
    angular_rescaling = der["ra_rec"] / (der["conformal_age"] - der["tau_rec"])
    l_max_tensors = int(extra.get("l_max_tensors", 0)) if "modes" in inp else 0
    nodes = class_l_nodes(max(l_max_tot, l_max_tensors), angular_rescaling)
    # check: every knot strictly inside an interval of the rebuilt list is one of the rebuilt nodes
    seg_ok = nodes_consistent(np.asarray(raw["tt"]), nodes)
    out = {f"unlensed_{k}": np.asarray(raw[k], dtype=np.float64) for k in KEYS}
    out.update({f"lensed_{k}": np.asarray(lensed[k], dtype=np.float64) for k in KEYS})
    out["l_nodes"] = np.asarray(nodes, dtype=np.int64)
    out["meta/input"] = np.array(json.dumps(inp))
    out["meta/l_max_scalars"] = np.asarray(l_max)
    out["meta/l_max_tot"] = np.asarray(l_max_tot)
    out["meta/delta_l_max"] = np.asarray(l_max_tot - l_max)
    out["meta/accurate_lensing"] = np.asarray(int(extra.get("accurate_lensing", 0)))
    out["meta/angular_rescaling"] = np.asarray(angular_rescaling)
    out["meta/classy_wall_s"] = np.asarray(wall)
    out["meta/nodes_checked"] = np.asarray(bool(seg_ok))
    c.struct_cleanup()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="run names (default: all)")
    a = ap.parse_args(argv)
    os.makedirs(OUT, exist_ok=True)
    for name, (cosmo, extra) in runs().items():
        if a.only and name not in a.only:
            continue
        out = make_one(name, cosmo, extra)
        path = os.path.join(OUT, f"{name}.npz")
        np.savez_compressed(path, **out)
        print(f"{name:14s} l_max_tot={int(out['meta/l_max_tot'])} nodes={len(out['l_nodes'])} "
              f"ar={float(out['meta/angular_rescaling']):.15f} checked={bool(out['meta/nodes_checked'])} "
              f"{os.path.getsize(path) / 1e3:.0f} KB {float(out['meta/classy_wall_s']):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
