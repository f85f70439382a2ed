"""Accuracy of boltzax against the stored CLASS reference data, at every reference cosmology.

Usage: ``python tools/accuracy_report.py [--precision default] [--only NAME ...]``. Prints one error table
per stage (the numbers that go into CHANGELOG.md's accuracy table). Needs no classy.

Background columns are compared at CLASS's own z rows; thermodynamics at 200 <= z <= 3000 (x_e) and
the visibility function in units of its peak; derived parameters relative.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import boltzax  # noqa: E402
from boltzax.testing import error_table, list_references, load_reference, max_err_of_peak, max_rel_err  # noqa: E402
from boltzax.testing import reference_params  # noqa: E402

BG_COLUMNS = {
    "H": ("H [1/Mpc]", "H_of_z"),
    "D_A": ("ang.diam.dist.", "angular_distance"),
    "D_L": ("lum. dist.", "luminosity_distance"),
    "chi": ("comov. dist.", "comoving_distance"),
    "tau": ("conf. time [Mpc]", "tau_of_z"),
    "r_s": ("comov.snd.hrz.", "rs_of_z"),
    "D": ("gr.fac. D", "growth_D"),
    "f": ("gr.fac. f", "growth_f"),
}
DERIVED = ["age", "conformal_age", "100*theta_s", "100*theta_star", "z_rec", "z_star", "z_d", "rs_rec", "rs_d",
           "tau_reio", "z_reio", "YHe"]
TARGETS = {**{k: 1e-4 for k in list(BG_COLUMNS) + DERIVED}, "x_e": 1e-3, "g/peak": 1e-3, "T_b": 1e-3}


def background_errors(res, ref) -> dict:
    bg = res.background
    z = ref["bg/z"]
    m = (z > 0) & (z < 1e6)
    out = {}
    for short, (col, method) in BG_COLUMNS.items():
        test = np.asarray(getattr(bg, method)(z[m]))
        out[short] = max_rel_err(test, ref[f"bg/{col}"][m])
    return out


def thermo_errors(res, ref, prefix: str) -> dict:
    th = res.thermo
    z = ref[f"{prefix}/z"]
    m = (z >= 200) & (z <= 3000)
    zt, x, T, g = (np.asarray(a) for a in (th.z, th.x_e, th.T_b, th.g))
    return {
        "x_e": max_rel_err(np.interp(z[m], zt, x), ref[f"{prefix}/x_e"][m]),
        "T_b": max_rel_err(np.interp(z[m], zt, T), ref[f"{prefix}/Tb [K]"][m]),
        "g/peak": max_err_of_peak(np.interp(z[m], zt, g), ref[f"{prefix}/g [Mpc^-1]"][m]),
    }


def derived_errors(res, ref, prefix: str) -> dict:
    from boltzax.thermo.thermodynamics import derived_parameters

    d = derived_parameters(res.thermo)
    d["age"] = float(res.background.age_Gyr)
    d["conformal_age"] = float(res.background.conformal_age)
    return {k: max_rel_err(d[k], ref[f"{prefix}/{k}"]) for k in DERIVED if f"{prefix}/{k}" in ref}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--precision", default="default")
    ap.add_argument("--only", nargs="*")
    a = ap.parse_args(argv)
    names = [n for n in list_references() if not a.only or n in a.only]
    tables: dict[str, dict] = {"background": {}, "thermo hyrec": {}, "thermo recfast": {}, "derived hyrec": {},
                               "derived recfast": {}}
    for name in names:
        ref = load_reference(name)
        for rec, th_prefix, d_prefix in (("hyrec", "th", "derived"), ("recfast", "th_recfast", "derived_recfast")):
            p = reference_params(ref).replace(recombination=rec)
            res = boltzax.compute(p, a.precision)
            if rec == "hyrec":
                tables["background"][name] = background_errors(res, ref)
            tables[f"thermo {rec}"][name] = thermo_errors(res, ref, th_prefix)
            tables[f"derived {rec}"][name] = derived_errors(res, ref, d_prefix)
        print(f"done {name}", file=sys.stderr, flush=True)
    for title, errs in tables.items():
        print(f"\n## {title} (max relative error; * = above target)\n")
        print(error_table(errs, TARGETS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
