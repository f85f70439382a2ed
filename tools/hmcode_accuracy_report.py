"""HMcode accuracy against CLASS v3.4.1 at every stored reference cosmology (tests/reference/hmcode).

The stage alone (CLASS's linear P_m, P_cb on its k nodes and its background numbers in, boltzax's HMcode
out) at CLASS's time nodes nearest z = 0, 0.5, 1, 2 and, where stored, z ~ 3, 4, 5; max |P/P_CLASS - 1|
over k in [5e-4, 5] /Mpc and over all nodes up to 20 /Mpc, for

* ``2020`` / ``2016`` against CLASS run with hmcode_tol_sigma = 1e-10 (``_tight``: the stage's Newton-refined
  root, boltzax's default);
* against CLASS's default run (hmcode_tol_sigma = 1e-6): with the exact root (its difference is CLASS's own
  bisection noise) and with CLASS's stopping point (``newton_steps = 0``);
* ``2020bf`` (2020_baryonic_feedback, log10T_heat = 8) and ``2016c`` (c_min = 2.5) where stored.

Optionally (``--class NAME ...``) end to end through `boltzax.Class` (default precision), P_m against
CLASS's default run at the nodes z <= 2 and 5e-4 <= k <= 5 /Mpc.
Usage: ``python tools/hmcode_accuracy_report.py [--class fid ...]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def _stage_err(ref, run, cb, kmask, prefix="", **prec_kw):
    from boltzax.nonlinear import hmcode as hm
    from boltzax.testing import hmcode_reference_stage_inputs

    c, version, pkw = hmcode_reference_stage_inputs(ref, run, prefix)
    prec = hm.HMcodePrecision(**{**pkw, **prec_kw})
    g = lambda k: ref[prefix + k]  # noqa: E731
    p, _ = hm.hmcode_pk(c, g("k"), g("lnpk_lin"), g("lnpk_cb_lin"), g("z"), g("om_z"), version=version, cb=cb,
                        prec=prec)
    want = g(f"pk_cb_{run}" if cb else f"pk_{run}")
    e = np.abs(np.asarray(p).T / want - 1.0)
    return float(e[:, kmask].max()), float(e.max())


def main(argv=None) -> int:
    from boltzax.testing import REFERENCE_DIR, load_hmcode_reference

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--class", dest="through_class", nargs="*", default=[])
    a = ap.parse_args(argv)
    names = sorted(f[:-4] for f in os.listdir(os.path.join(REFERENCE_DIR, "hmcode")) if f.endswith(".npz"))
    print(f"{'model':10s} {'run':12s} {'spectrum':4s} {'z<=2, k<=5':>11s} {'all k<=20':>10s}")
    worst: dict[str, float] = {}
    for name in names:
        ref = load_hmcode_reference(name)
        kmask = (ref["k"] >= 5e-4) & (ref["k"] <= 5.0)
        rows = [("2020_tight", {}), ("2016_tight", {}), ("2020", {}), ("2016", {}), ("2020", {"newton_steps": 0}),
                ("2016", {"newton_steps": 0})]
        rows += [(r, {}) for r in ("2020bf_tight", "2016c_tight") if f"pk_{r}" in ref]
        for run, kw in rows:
            for cb in (False, True):
                e5, eall = _stage_err(ref, run, cb, kmask, **kw)
                label = run + ("/stop" if kw else "")
                worst[label] = max(worst.get(label, 0.0), e5)
                print(f"{name:10s} {label:12s} {'cb' if cb else 'm':4s} {e5:11.2e} {eall:10.2e}", flush=True)
        if "high/k" in ref:
            km = (ref["high/k"] >= 5e-4) & (ref["high/k"] <= 5.0)
            for run in ("2020_tight", "2016_tight"):
                e5, eall = _stage_err(ref, run, False, km, prefix="high/")
                print(f"{name:10s} {run + ' z~' + ','.join(f'{z:.1f}' for z in ref['high/z']):12s} m    "
                      f"{e5:11.2e} {eall:10.2e}", flush=True)
    print("\nworst over models (z <= 2, 5e-4 <= k <= 5):", json.dumps({k: f"{v:.2e}" for k, v in worst.items()}))

    for name in a.through_class:
        import boltzax
        from boltzax.testing import reference_class_input

        ref = load_hmcode_reference(name)
        inp = json.loads(str(ref["meta/input_2020"]))
        cl = boltzax.Class()
        cl.set({k: v for k, v in inp.items() if k not in ("z_max_pk",)} | {"z_pk": ",".join(map(str, ref["z"]))})
        cl.compute()
        kmask = (ref["k"] >= 5e-4) & (ref["k"] <= 5.0)
        for cb in (False, True):
            got = np.array([[cl.pk_cb(k, z) if cb else cl.pk(k, z) for k in ref["k"][kmask]] for z in ref["z"]])
            want = ref["pk_cb_2020" if cb else "pk_2020"][:, kmask]
            print(f"Class {name} {'P_cb' if cb else 'P_m'}: max rel err per z",
                  np.array2string(np.abs(got / want - 1).max(1), precision=2))
        del reference_class_input
    return 0


if __name__ == "__main__":
    sys.exit(main())
