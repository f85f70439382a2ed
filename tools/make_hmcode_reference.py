"""Write CLASS v3.4.1 HMcode reference data to ``tests/reference/hmcode/<name>.npz`` (needs classy 3.4.1).

Usage: ``python tools/make_hmcode_reference.py [--only NAME ...]``.

For each reference cosmology (``tools/make_reference.py``'s 17), classy runs with ``output = mPk``,
``P_k_max_1/Mpc = 20`` (HMcode needs k_nl inside the perturbation grid: with 5 /Mpc it stops at z ~ 2.9),
``z_max_pk = 2`` (with k_max = 20 /Mpc CLASS computes HMcode only up to z ~ 3.5-4.4, and classy refuses the
node array once its first node lies beyond), ``non_linear = hmcode`` and, for each stored run, the file keeps
CLASS's own arrays at CLASS's time nodes nearest to z = 0, 0.5, 1, 2 (``get_pk_and_k_and_z`` returns
P at the nodes, no interpolation), so a stage-alone comparison (CLASS's linear P in, boltzax's HMcode out)
sees CLASS's computation only:

* ``k`` (CLASS's perturbation wavenumbers [1/Mpc]), ``z`` (the nodes), ``om_z`` (Omega_m(z), classy Om_m),
  ``lnpk_lin`` / ``lnpk_cb_lin`` (ln P_lin [Mpc^3], float64, shape (n_z, n_k): the stage's input),
  ``cosmo/<name>``: the background numbers HMcode reads (CLASS's values);
* ``pk_<run>`` / ``pk_cb_<run>`` (P_nl [Mpc^3], float32, (n_z, n_k)) for the runs
  ``2016`` and ``2020`` (CLASS defaults), ``2016_tight`` and ``2020_tight`` (precision
  ``hmcode_tol_sigma = 1e-10``: CLASS's default bisection tolerance 1e-6 on sigma(R_nl) leaves ~1e-3 noise in
  P_nl, see NOTES-hmcode.md), and at fid and lcdm_5 ``2020bf_tight`` (2020_baryonic_feedback,
  log10T_heat_hmcode = 8.0) and ``2016c_tight`` (c_min = 2.5, eta_0 from CLASS's relation);
* ``high/...``: the same for 2016_tight and 2020_tight at z ~ 3, 4, 5 (P_k_max_1/Mpc = 60, z_max_pk = 5) at
  fid, lcdm_1, w0wa_2 (report only);
* ``meta/input_<run>``: the exact CLASS input (JSON).  The linear P is the same in every run (checked).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
OUT = os.path.join(HERE, "..", "tests", "reference", "hmcode")
Z_TARGETS = np.array([0.0, 0.5, 1.0, 2.0])
Z_HIGH = np.array([3.0, 4.0, 5.0])
HIGH_MODELS = ("fid", "lcdm_1", "w0wa_2")
TIGHT = {"hmcode_tol_sigma": 1e-10}
RUNS = {"2016": {"hmcode_version": "2016"}, "2020": {"hmcode_version": "2020"},
        "2016_tight": {"hmcode_version": "2016", **TIGHT}, "2020_tight": {"hmcode_version": "2020", **TIGHT}}
EXTRA_RUNS = {"2020bf_tight": {"hmcode_version": "2020_baryonic_feedback", "log10T_heat_hmcode": 8.0, **TIGHT},
              "2016c_tight": {"hmcode_version": "2016", "c_min": 2.5, **TIGHT}}
EXTRA_MODELS = ("fid", "lcdm_5")


def _cosmo_numbers(c) -> dict:
    bg = c.get_background()
    pars = c.pars
    out = {"h": c.h(), "H0": c.Hubble(0.0), "Omega0_m": c.Omega_m(), "Omega0_b": c.Omega_b(),
           "Omega0_cdm": c.Omega_cdm(), "Omega0_ncdm_tot": c.Omega_nu, "Omega0_lambda": c.Omega_Lambda(),
           "Omega0_fld": c.Omega_fld(), "Omega0_k": c.Omega_k(), "Omega0_r": c.Omega_r(), "Omega0_g": c.Omega_g(),
           "Neff": c.Neff(), "T_cmb": c.T_cmb(), "A_s": c.get_current_derived_parameters(["A_s"])["A_s"],
           "n_s": c.n_s(), "alpha_s": float(pars.get("alpha_s", 0.0)), "k_pivot": float(pars.get("k_pivot", 0.05)),
           "w0": float(pars.get("w0_fld", -1.0)), "wa": float(pars.get("wa_fld", 0.0))}
    del bg
    return {k: float(v() if callable(v) else v) for k, v in out.items()}


def make_one(name: str, base: dict, high: bool = False) -> dict:
    from classy import Class

    base = {k: v for k, v in base.items() if k not in ("r", "modes", "n_t")}
    arrays: dict[str, np.ndarray] = {}
    runs = dict(RUNS, **(EXTRA_RUNS if name in EXTRA_MODELS and not high else {}))
    if high:
        runs = {r: runs[r] for r in ("2016_tight", "2020_tight")}
    targets = Z_HIGH if high else Z_TARGETS
    lin_ref = None
    for run, extra in runs.items():
        sampling = {"P_k_max_1/Mpc": 60.0, "z_max_pk": 5.0} if high else {"P_k_max_1/Mpc": 20.0, "z_max_pk": 2.0}
        inp = {**base, "output": "mPk", **sampling, "non_linear": "hmcode", **extra}
        c = Class()
        c.set(inp)
        c.compute()
        pk_l, k, z = c.get_pk_and_k_and_z(nonlinear=False)
        pkcb_l, _, _ = c.get_pk_and_k_and_z(nonlinear=False, only_clustering_species=True)
        pk_nl, _, _ = c.get_pk_and_k_and_z(nonlinear=True)
        pkcb_nl, _, _ = c.get_pk_and_k_and_z(nonlinear=True, only_clustering_species=True)
        rows = np.array([int(np.argmin(np.abs(z - zt))) for zt in targets])
        if lin_ref is None:
            lin_ref = pk_l[:, rows]
            arrays["k"] = k
            arrays["z"] = z[rows]
            arrays["om_z"] = np.asarray(c.Om_m(z[rows]), dtype=float)
            arrays["lnpk_lin"] = np.log(pk_l[:, rows].T)
            arrays["lnpk_cb_lin"] = np.log(pkcb_l[:, rows].T)
            for key, v in _cosmo_numbers(c).items():
                arrays[f"cosmo/{key}"] = np.array(v)
        else:
            assert np.array_equal(lin_ref, pk_l[:, rows]), f"{name}: linear P differs between runs"
        arrays[f"pk_{run}"] = pk_nl[:, rows].T.astype(np.float32)
        arrays[f"pk_cb_{run}"] = pkcb_nl[:, rows].T.astype(np.float32)
        arrays[f"k_nl_{run}"] = np.asarray(c.nonlinear_scale(z[rows], len(rows)), dtype=float)
        arrays[f"meta/input_{run}"] = np.array(json.dumps(inp))
        c.struct_cleanup()
    return arrays


def main(argv=None) -> int:
    from make_reference import cosmologies

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=None)
    a = ap.parse_args(argv)
    os.makedirs(OUT, exist_ok=True)
    for name, base in cosmologies().items():
        if a.only and name not in a.only:
            continue
        arrays = make_one(name, base)
        if name in HIGH_MODELS:
            try:
                arrays.update({f"high/{k}": v for k, v in make_one(name, base, high=True).items()})
            except Exception as e:  # CLASS cannot reach k_nl at the highest node
                print(name, "high-z run failed:", str(e).strip().splitlines()[-1][:200])
        np.savez_compressed(os.path.join(OUT, f"{name}.npz"), **arrays)
        print(name, "z nodes", np.round(arrays["z"], 4), "n_k", len(arrays["k"]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
