"""Lensed C_l with the nonlinear lensing potential through `boltzax.Class` (default precision, l_max_scalars
2500) against CLASS 3.4.1 (tests/reference/nl_lensing): max errors of lensed TT, EE, TE (of sqrt(TT EE)), BB
to l = 2500 and C_l^phiphi to 2000, and of the nonlinear/linear ratio against CLASS's.

Run: ``python tools/nl_lensing_report.py [name ...]`` (default fid lcdm_1 w0wa_2).
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

import boltzax
from boltzax.testing import REFERENCE_DIR


def main():
    names = sys.argv[1:] or ["fid", "lcdm_1", "w0wa_2"]
    for name in names:
        with np.load(os.path.join(REFERENCE_DIR, "nl_lensing", f"{name}.npz")) as d:
            ref = {k: d[k] for k in d.files}
        ell = ref["ell"]
        got = {}
        for run in ("lin", "halofit", "hmcode"):
            c = boltzax.Class()
            c.set(json.loads(str(ref[f"meta/input_{run}"])))
            t0 = time.time()
            c.compute()
            t = time.time() - t0
            lensed, raw = c.lensed_cl(2500), c.raw_cl(2500)
            g = {k: np.asarray(lensed[k])[ell] for k in ("tt", "ee", "te", "bb")}
            g["pp"] = np.asarray(raw["pp"])[ell]
            got[run] = g
            line = []
            for key in ("tt", "ee", "te", "bb", "pp"):
                sel = ell <= (2000 if key == "pp" else 2500)
                r = ref[f"{run}_pp"] if key == "pp" else ref[f"{run}_lensed_{key}"]
                if key == "te":
                    sc = np.sqrt(ref[f"{run}_lensed_tt"] * ref[f"{run}_lensed_ee"])
                    e = np.abs(g[key] - r)[sel] / sc[sel]
                else:
                    e = np.abs(g[key] / r - 1)[sel]
                i = int(np.argmax(e))
                line.append(f"{key} {e[i]:.2e} (l={ell[sel][i]})")
            if run != "lin":
                for key in ("tt", "ee", "bb", "pp"):
                    sel = ell <= (2000 if key == "pp" else 2500)
                    r = "pp" if key == "pp" else f"lensed_{key}"
                    e = np.abs((g[key] / got["lin"][key]) / (ref[f"{run}_{r}"] / ref[f"lin_{r}"]) - 1)[sel]
                    i = int(np.argmax(e))
                    line.append(f"ratio {key} {e[i]:.2e} (l={ell[sel][i]})")
            print(f"{name} {run} ({t:.0f} s): " + ", ".join(line), flush=True)
            np.savez(f"/tmp/nl_lensing_{name}_{run}.npz", **g)


if __name__ == "__main__":
    main()
