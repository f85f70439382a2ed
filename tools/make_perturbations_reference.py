"""Write ``tests/reference/perturbations/<cosmo>.npz``: classy 3.4.1's ``get_perturbations()`` time series
(``k_output_values``) at three reference cosmologies (fid: one massive neutrino; w0wa_2: w0-wa dark energy crossing
-1, PPF; ok_neg: closed space), in synchronous gauge (CLASS's default output, converted to Newtonian variables),
in Newtonian gauge, and (fid only) synchronous with ``get_perturbations_in_current_gauge = yes``.
Needs the ``oracle`` extra (classy).  output = mPk (CLASS then writes the ncdm columns), HyRec.

Rows: CLASS stores one per step of its integrator (a k- and gauge-dependent count); every row after
``TAU_MIN_FRAC`` tau_rec is a candidate and ``N_ROWS`` of them, evenly spaced in index, are kept (plus the first
and last), to keep the files small.

Keys: ``meta/input`` (JSON of the classy input, without gauge), ``meta/k`` (the k_output_values, 1/Mpc),
``meta/tau_rec`` (CLASS's conformal time at recombination, Mpc), ``meta/n_rows/<variant>`` (CLASS's full row
count per k), ``meta/titles/<variant>`` (JSON list of the dict keys in CLASS's order),
``<variant>/<k index>/<column>`` (the kept rows).  Variants: ``sync``, ``newt``, ``sync_current``.

Usage: ``python tools/make_perturbations_reference.py``.
"""

from __future__ import annotations

import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "reference", "perturbations")
K_OUT = (0.01, 0.05, 0.2)  # [1/Mpc]
COSMOS = ("fid", "w0wa_2", "ok_neg")
N_ROWS = 120
TAU_MIN_FRAC = 0.5
VARIANTS = {"sync": {"gauge": "synchronous"}, "newt": {"gauge": "newtonian"},
            "sync_current": {"gauge": "synchronous", "get_perturbations_in_current_gauge": "yes"}}


def main() -> None:
    from classy import Class

    index = json.load(open(os.path.join(HERE, "..", "tests", "reference", "index.json")))
    os.makedirs(OUT, exist_ok=True)
    for name in COSMOS:
        inp = {**index[name], "output": "mPk", "P_k_max_1/Mpc": 1.0,
               "k_output_values": ", ".join(str(k) for k in K_OUT)}
        out = {"meta/input": json.dumps(inp, sort_keys=True), "meta/k": np.asarray(K_OUT)}
        for var, extra in VARIANTS.items():
            if var == "sync_current" and name != "fid":
                continue
            c = Class()
            c.set({**inp, **extra})
            c.compute()
            if var == "sync":
                out["meta/tau_rec"] = c.get_current_derived_parameters(["tau_rec"])["tau_rec"]
            pert = c.get_perturbations()["scalar"]
            out[f"meta/titles/{var}"] = json.dumps(list(pert[0].keys()))
            out[f"meta/n_rows/{var}"] = np.array([len(p["a"]) for p in pert])
            for i, p in enumerate(pert):
                tau = p["tau [Mpc]"]
                cand = np.nonzero(tau > TAU_MIN_FRAC * out["meta/tau_rec"])[0]
                keep = np.unique(np.concatenate([[0], cand[np.linspace(0, cand.size - 1, N_ROWS).astype(int)],
                                                 [tau.size - 1]]))
                for col, v in p.items():
                    out[f"{var}/{i}/{col}"] = np.asarray(v)[keep]
            c.struct_cleanup()
        path = os.path.join(OUT, f"{name}.npz")
        np.savez_compressed(path, **out)
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
