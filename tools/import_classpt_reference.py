"""Copy the CLASS-PT reference arrays needed by tests/test_pt*.py into the repository.

Reads /work/shared/reference/classpt/classpt_dev_XX.npz (see its README: CLASS-PT commit e02293a,
13 cosmologies x z = 0.38, 0.61, 1.0, plus the no-IR / no-AP variants of the fiducial) and
writes tests/reference/classpt/classpt_ref.npz (float64, compressed) with only what the tests use:

* per cosmology c and redshift z: `pk_mult` indices 0-47 (48, 60) for the main run
  (`pk_mult_noIR`, `_noAP`, `_noIR_noAP` for c = 0), the linear P_cb on the FFTLog nodes, the
  wrapper outputs, f, H, D_A, the AP ratios CLASS-PT uses, Pd2d2_0;
* per cosmology: h, rs_drag, Omega_m, Omega_g, and two background quantities the reference does
  not store but CLASS-PT's k grid needs (see boltzax/pt/classpt_api.py, `pt_k_grid`):
  the conformal age tau_0 and the sound horizon at recombination r_s(z_rec), both computed here
  with boltzax's own background/thermodynamics (agree with CLASS to ~1e-6, test_thermo.py);
* per cosmology and z: ln P_cb on that grid (`lnpk_pt`, from the dense reference spectrum) and
  the coefficients (c_z, l_z) of CLASS-PT's time-interpolation quirk
  (`classpt_api.tau_interpolation_quirk`, from boltzax's background).

Run:  .venv/bin/python tools/import_classpt_reference.py [SRC_DIR]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

SRC = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/shared/reference/classpt")
DST = Path(__file__).resolve().parents[1] / "tests" / "reference" / "classpt" / "classpt_ref.npz"
N_COSMO = 13
N_PT_MAX = 160  # CLASS's perturbation k grid has ~130 points here (padded with NaN)
WRAPPERS = ("pk_mm_real_cs0", "pk_mm_real_cs1", "pk_gg_l0", "pk_gg_l2", "pk_gg_l4", "pk_mm_l0",
            "pk_mm_l2", "pk_mm_l4", "pk_gg_real", "pk_gm_real", "Pd2d2_0")
LINEAR_KEYS = ("h", "omega_b", "omega_cdm", "A_s", "n_s", "tau_reio", "N_ur", "N_ncdm", "m_ncdm")


def background_scalars(class_input: dict, z_pk) -> tuple:
    from boltzax import Class
    from boltzax.pt import classpt_api

    c = Class()
    c.set({k: v for k, v in class_input.items() if k in LINEAR_KEYS})
    c.compute()
    d = c.get_current_derived_parameters(["conformal_age", "rs_rec", "rs_d"])
    quirk = classpt_api.tau_interpolation_quirk(c._r().background, list(z_pk))
    return d["conformal_age"], d["rs_rec"], d["rs_d"], quirk


def lnp_on_grid(k_dense, p_dense, k_new):
    """Natural cubic spline of ln P in ln k through the dense reference grid (reproduces classy's
    pk_cb_lin to 6e-6, reference README); linear in ln-ln outside it (a few points of CLASS's
    grid lie below 5e-5 h and above 100 h/Mpc, > 20 knots away from the tested k)."""
    from scipy.interpolate import CubicSpline

    x, y = np.log(k_dense), np.log(p_dense)
    out = CubicSpline(x, y, bc_type="natural")(np.clip(np.log(k_new), x[0], x[-1]))
    lo, hi = np.log(k_new) < x[0], np.log(k_new) > x[-1]
    out[lo] = y[0] + (y[1] - y[0]) / (x[1] - x[0]) * (np.log(k_new[lo]) - x[0])
    out[hi] = y[-1] + (y[-1] - y[-2]) / (x[-1] - x[-2]) * (np.log(k_new[hi]) - x[-1])
    return out


def main() -> None:
    out: dict[str, np.ndarray] = {}
    per_c = {k: [] for k in ("h", "rs_drag", "Omega_m", "Omega_g", "tau0", "rs_rec", "rs_drag_boltzax",
                             "n_pt")}
    per_cz = {k: [] for k in ("pk_mult", "pk_lin_cb_fftlog", "f_z", "H_z", "DA_z", "AP_hratio",
                              "AP_Dratio", "lnpk_pt", "tau_c", "tau_l") + WRAPPERS}
    ref_keys = ("pk_mult", "pk_lin_cb_fftlog", "f_z", "H_z", "DA_z", "AP_hratio", "AP_Dratio") + WRAPPERS
    for c in range(N_COSMO):
        d = np.load(SRC / f"classpt_dev_{c:02d}.npz")
        meta = json.loads(str(d["meta"]))
        sc = meta["scalars"]
        ci = json.loads(str(d["class_input"]))["IR_yes_AP_yes"]
        tau0, rs_rec, rs_d, (c_z, l_z) = background_scalars(ci, d["z"])
        from boltzax.pt import classpt_api

        kpt = classpt_api.pt_k_grid(tau0, rs_rec, sc["h"])
        lnp = np.full((3, N_PT_MAX), np.nan)
        for iz in range(3):
            lnp[iz, :kpt.size] = lnp_on_grid(d["k_lin_Mpc"], d["pk_lin_cb_dense"][iz], kpt)
        per_cz["lnpk_pt"].append(lnp)
        per_cz["tau_c"].append(c_z)
        per_cz["tau_l"].append(l_z)
        per_c["n_pt"].append(kpt.size)
        print(f"dev_{c:02d}: tau0={tau0:.6f} rs_rec={rs_rec:.6f} rs_d={rs_d:.6f} "
              f"(CLASS rs_drag {sc['rs_drag']:.6f})", flush=True)
        for k, v in (("h", sc["h"]), ("rs_drag", sc["rs_drag"]), ("Omega_m", sc["Omega_m"]),
                     ("Omega_g", sc["Omega_g"]), ("tau0", tau0), ("rs_rec", rs_rec),
                     ("rs_drag_boltzax", rs_d)):
            per_c[k].append(v)
        for k in ref_keys:
            arr = d[k]
            per_cz[k].append(arr[:, :48] if k == "pk_mult" else arr)
        if c == 0:
            out["k_h"] = d["k_h"]
            out["z"] = d["z"]
            out["k_fftlog_Mpc_fid"] = d["k_fftlog_Mpc"]
            for suf in ("_noIR", "_noAP", "_noIR_noAP"):
                out["fid_pk_mult" + suf] = d["pk_mult" + suf][:, :48]
                for w in WRAPPERS:
                    out["fid_" + w + suf] = d[w + suf]
    for k, v in per_c.items():
        out[k] = np.asarray(v, dtype=np.float64)
    for k, v in per_cz.items():
        out[k] = np.asarray(v, dtype=np.float64)
    out["bias"] = np.asarray(json.dumps(json.loads(str(np.load(SRC / "classpt_dev_00.npz")["bias"]))))
    DST.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(DST, **out)
    print(f"wrote {DST} ({DST.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
