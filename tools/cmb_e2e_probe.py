"""End-to-end unlensed C_l (boltzax.cmb.cmb_spectra: sources -> line of sight -> harmonic, default precision,
l_max 3000) against the CLASS reference tests/reference/<name>.npz 'cl/unlensed_*' (CLASS l_max_scalars = 3000).

    python tools/cmb_e2e_probe.py fid lcdm_1 nur

Prints the max relative error (TE: of sqrt(TT EE)) over 2 <= l <= 2500 (pp: 2000), where it is, the median and
the l < 30 maximum, and the times (first call includes compilation)."""
import sys
import time

import jax
import numpy as np

import boltzax
from boltzax.cmb import cmb_spectra
from boltzax.pipeline import compute
from boltzax.testing import load_reference, reference_params

prec = boltzax.get_precision("default")
for name in sys.argv[1:]:
    ref = load_reference(name)
    t = time.perf_counter()
    res = compute(reference_params(name), prec)
    out = cmb_spectra(res, prec, 3000, lensing=False)
    cls = jax.device_get(out["unlensed"])
    dt = time.perf_counter() - t
    ell = np.arange(2501)
    m = ell >= 2
    R = {x: ref[f"cl/unlensed_{x}"][:2501] for x in ("tt", "ee", "te", "pp")}
    c = {x: np.asarray(cls[x])[:2501] for x in R}
    np.savez(f"/tmp/bx_{name}_3000.npz", **c)
    e = lambda x, den: np.abs(c[x] - R[x]) / den  # noqa: E731
    errs = {"TT": (e("tt", np.abs(R["tt"])), 2500), "EE": (e("ee", np.abs(R["ee"])), 2500),
            "TE": (e("te", np.sqrt(R["tt"] * R["ee"])), 2500), "pp": (e("pp", np.abs(R["pp"])), 2000)}
    for lab, (er, hi) in errs.items():
        mm = m & (ell <= hi)
        j = np.argmax(np.where(mm, er, 0))
        print(f"{name} {lab}: max {er[mm].max():.2e} at l={j}  median {np.median(er[mm]):.1e}  "
              f"l<30 max {er[2:30].max():.1e}")
    print(f"{name}: grids_ok {bool(out['grids_ok'])}, {dt:.1f} s (incl. compile on the first)", flush=True)
