"""CLASS v3.4.1 references for the extreme-but-valid cosmologies of issue 17 (tests/test_extreme.py).

Usage: ``python tools/make_extreme_reference.py [--only NAME ...]`` (needs classy 3.4.1, the ``oracle`` extra).
Writes ``tests/reference/extreme/<name>.npz``: ``input`` (the CLASS input, JSON), ``k`` [1/Mpc] (40 points
log-spaced 5e-4 ... 1), ``z`` (0, 1), ``pk_lin`` (2, 40) [Mpc^3], ``sigma8``, ``class_version``.

Each cosmology is Planck 2018 with one massive neutrino (`boltzax.params.PLANCK18`) and one change:
``m_ncdm_1eV_x3`` (m_ncdm = 1 eV, deg_ncdm = 3: three degenerate species; N_ur = 0.00441 keeps N_eff = 3.044),
``nur_5`` (N_ur = 5), ``w0m05_wam1`` (w0 = -0.5, wa = -1, the fluid closing the budget), ``ok_p01`` /
``ok_m01`` (Omega_k = +-0.1), ``tau_015`` (tau_reio = 0.15), ``h_055`` / ``h_085``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
OUT = os.path.join(HERE, "..", "tests", "reference", "extreme")

K = np.logspace(np.log10(5e-4), 0.0, 40)
Z = (0.0, 1.0)


def cosmologies() -> dict[str, dict]:
    from boltzax.params import PLANCK18

    changes = {
        "m_ncdm_1eV_x3": {"m_ncdm": 1.0, "deg_ncdm": 3, "N_ur": 0.00441},
        "nur_5": {"N_ur": 5.0},
        "w0m05_wam1": {"Omega_Lambda": 0.0, "w0_fld": -0.5, "wa_fld": -1.0},
        "ok_p01": {"Omega_k": 0.1},
        "ok_m01": {"Omega_k": -0.1},
        "tau_015": {"tau_reio": 0.15},
        "h_055": {"h": 0.55},
        "h_085": {"h": 0.85},
    }
    run = {"output": "mPk", "P_k_max_1/Mpc": 1.0, "z_max_pk": 1.0}
    return {name: {**PLANCK18, **run, **c} for name, c in changes.items()}


def make(name: str, inp: dict) -> None:
    from classy import Class

    t = time.time()
    c = Class()
    c.set(inp)
    c.compute()
    pk = np.array([[c.pk_lin(k, z) for k in K] for z in Z])
    s8 = c.sigma8()
    np.savez_compressed(os.path.join(OUT, f"{name}.npz"), input=json.dumps(inp), k=K, z=np.array(Z), pk_lin=pk,
                        sigma8=s8, class_version="3.4.1")
    c.struct_cleanup()
    print(f"{name}: sigma8 = {s8:.6f} ({time.time() - t:.1f} s)", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="*")
    a = ap.parse_args(argv)
    os.makedirs(OUT, exist_ok=True)
    for name, inp in cosmologies().items():
        if a.only and name not in a.only:
            continue
        make(name, inp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
