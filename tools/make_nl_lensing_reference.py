"""Write CLASS v3.4.1 references for the lensed C_l with the nonlinear lensing potential (needs classy):
``tests/reference/nl_lensing/<name>.npz``.

Usage: ``python tools/make_nl_lensing_reference.py [--only NAME ...]``.

Per cosmology three CLASS runs, output = tCl,pCl,lCl, lensing = yes, l_max_scalars = 2500, CLASS defaults
otherwise: ``lin`` (non_linear = none), ``halofit`` and ``hmcode`` (hmcode_version 2020, CLASS's default).
CLASS multiplies the lensing source phi + psi by sqrt(P_nl / P_lin) at each (k, tau) of the source sampling
(transfer.c, transfer_perturbation_copy_sources_and_nl_corrections; fourier.c, fourier_init: nl_corr_density),
so these runs differ only through the lensing potential.  Stored (float32, classy's dimensionless C_l) at
``ell`` = 2..100 and every 4th l to 2500 (the lensed spectra are smooth in l): ``<run>_lensed_<xy>``
(xy = tt, ee, te, bb) and ``<run>_pp`` (unlensed C_l^phiphi), ``meta/input_<run>`` (JSON), ``meta/wall_<run>``.

Cosmologies (tools/make_reference.py): ``fid`` (one 0.06 eV ncdm), ``lcdm_1`` (0.25 eV: the massive-neutrino
case), ``w0wa_2`` (w0/wa).  Curved space is not in boltzax's C_l yet.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "reference", "nl_lensing")
sys.path.insert(0, HERE)

from make_reference import cosmologies  # noqa: E402

NAMES = ("fid", "lcdm_1", "w0wa_2")
RUNS = {"lin": {}, "halofit": {"non_linear": "halofit"}, "hmcode": {"non_linear": "hmcode"}}
L_MAX = 2500
ELL = np.concatenate([np.arange(2, 101), np.arange(104, L_MAX + 1, 4)])


def make_one(name: str) -> dict:
    from classy import Class

    out = {"ell": ELL.astype(np.int32)}
    for run, extra in RUNS.items():
        inp = {**cosmologies()[name], "output": "tCl,pCl,lCl", "lensing": "yes", "l_max_scalars": L_MAX, **extra}
        c = Class()
        c.set(inp)
        t0 = time.perf_counter()
        c.compute()
        out[f"meta/wall_{run}"] = np.asarray(time.perf_counter() - t0)
        lensed = c.lensed_cl(L_MAX)
        raw = c.raw_cl(L_MAX)
        for k in ("tt", "ee", "te", "bb"):
            out[f"{run}_lensed_{k}"] = np.asarray(lensed[k])[ELL].astype(np.float32)
        out[f"{run}_pp"] = np.asarray(raw["pp"])[ELL].astype(np.float32)
        out[f"meta/input_{run}"] = np.array(json.dumps(inp))
        c.struct_cleanup()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="cosmology names (default: all)")
    a = ap.parse_args(argv)
    os.makedirs(OUT, exist_ok=True)
    for name in NAMES:
        if a.only and name not in a.only:
            continue
        out = make_one(name)
        path = os.path.join(OUT, f"{name}.npz")
        np.savez_compressed(path, **out)
        pp = out["halofit_pp"] / out["lin_pp"] - 1
        tt = out["halofit_lensed_tt"] / out["lin_lensed_tt"] - 1
        print(f"{name}: {os.path.getsize(path) / 1e3:.0f} KB, halofit/lin - 1: pp max {np.max(np.abs(pp)):.3g}, "
              f"lensed tt max {np.max(np.abs(tt)):.3g}; wall "
              + ", ".join(f"{r} {float(out[f'meta/wall_{r}']):.1f} s" for r in RUNS), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
