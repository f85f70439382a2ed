"""Write CLASS v3.4.1 reference outputs to ``tests/reference/<name>.npz`` (needs the ``oracle`` extra).

Usage: ``python tools/make_reference.py [--only NAME ...] [--families pk tk ...] [--jobs 2]`` (or
``make reference``).  ``--families`` recomputes only those families and keeps the other keys of the
existing files.

Oracle hygiene: CLASS's outputs move at the 1e-4 level with the requested output list, so every output
family is computed in its own classy run and the exact CLASS input of that run is stored beside it
(``meta/input_<family>``, JSON). Families:

* ``bg``     output = ''  (HyRec, CLASS's default): background + thermodynamics tables, derived parameters
* ``recfast`` output = '', recombination = recfast: thermodynamics table and derived parameters
* ``pk``     output = mPk, P_k_max_1/Mpc = 5, z_pk = 0, 0.5, 1, 2: linear P(k) (total, cb), sigma8,
  f(k, z) (scale_dependent_growth_factor_f), effective_f_sigma8 and scale_independent_f_sigma8
* ``halofit`` output = mPk, non_linear = halofit, P_k_max_1/Mpc = 20: P_nl (total, cb), k_nl, at
  z = 0, 0.5, 1, 2 and (a second run, ``_high`` keys) z = 3, 5; CLASS's k grid and linear P on it
* ``tk``     output = mTk, vTk, z_pk = 0, 1: transfer functions (synchronous gauge)
* ``cl``     output = tCl, pCl, lCl, lensing = yes, l_max_scalars = 3000: unlensed and lensed C_l

Key layout and units: ``tests/reference/README.md``. Tables are subsampled by picking CLASS's own rows
(no interpolation), so the stored values are exactly CLASS's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from multiprocessing import Pool

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "reference")

NU1 = {"N_ur": 2.0328, "N_ncdm": 1}  # one massive species, N_eff = 3.044

# The fiducial point (boltzax.params.PLANCK18), 8 LCDM + massive-neutrino points spread over the box
# (a hand-made Latin hypercube: every parameter takes 8 distinct values across its range, shuffled),
# and the extension points.
#            name      h     omega_b  omega_cdm ln10As  n_s    tau    m_ncdm
LCDM_TABLE = [
    ("lcdm_0", 0.600, 0.02300, 0.1250, 3.100, 0.940, 0.070, 0.10),
    ("lcdm_1", 0.620, 0.02100, 0.1350, 2.950, 0.990, 0.050, 0.25),
    ("lcdm_2", 0.640, 0.02380, 0.1050, 3.150, 0.960, 0.040, 0.06),
    ("lcdm_3", 0.660, 0.02150, 0.1150, 3.000, 0.930, 0.085, 0.15),
    ("lcdm_4", 0.690, 0.02250, 0.1380, 2.920, 0.970, 0.060, 0.02),
    ("lcdm_5", 0.710, 0.02050, 0.1100, 3.180, 1.000, 0.035, 0.30),
    ("lcdm_6", 0.730, 0.02200, 0.1280, 3.050, 0.925, 0.090, 0.04),
    ("lcdm_7", 0.760, 0.02350, 0.1010, 2.980, 0.985, 0.030, 0.20),
]

FID = {"h": 0.6732117, "omega_b": 0.02238280, "omega_cdm": 0.1201075, "ln10^{10}A_s": 3.044784,
       "n_s": 0.9660499, "tau_reio": 0.05430842, **NU1, "m_ncdm": 0.06}


def cosmologies() -> dict[str, dict]:
    c = {"fid": dict(FID)}
    for name, h, ob, oc, las, ns, tau, m in LCDM_TABLE:
        c[name] = {"h": h, "omega_b": ob, "omega_cdm": oc, "ln10^{10}A_s": las, "n_s": ns, "tau_reio": tau,
                   **NU1, "m_ncdm": m}
    c["w0wa_1"] = {**FID, "Omega_Lambda": 0.0, "w0_fld": -0.9, "wa_fld": -0.2}
    c["w0wa_2"] = {**FID, "h": 0.70, "Omega_Lambda": 0.0, "w0_fld": -1.1, "wa_fld": 0.3}
    c["ok_pos"] = {**FID, "Omega_k": 0.03}
    c["ok_neg"] = {**FID, "Omega_k": -0.03, "h": 0.64}
    c["tensor_r01"] = {**FID, "r": 0.1, "modes": "s,t"}
    # two and three species: N_ur lowered by ~1.0112 per extra massive species keeps N_eff = 3.044
    c["ncdm2"] = {**FID, "N_ur": 1.0216, "N_ncdm": 2, "m_ncdm": "0.05,0.01"}
    c["ncdm3"] = {**FID, "N_ur": 0.00641, "N_ncdm": 3, "m_ncdm": "0.05,0.01,0.005"}
    c["nur"] = {**FID, "N_ur": 2.5}
    return c


def _rows(z_table: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Indices of CLASS table rows nearest (in z) to the targets, unique and sorted."""
    order = np.argsort(z_table)
    zs = z_table[order]
    j = np.clip(np.searchsorted(zs, targets), 1, len(zs) - 1)
    j = np.where(np.abs(zs[j - 1] - targets) < np.abs(zs[j] - targets), j - 1, j)
    return np.unique(order[j])


BG_Z = np.concatenate([[0.0], np.geomspace(1e-3, 1e9, 420)])
TH_Z = np.unique(np.concatenate([np.linspace(0, 50, 101), np.geomspace(50, 200, 40), np.linspace(200, 3000, 1121),
                                 np.geomspace(3000, 1e4, 60), np.geomspace(1e4, 5e6, 40)]))
DERIVED = ["h", "H0", "100*theta_s", "100*theta_star", "z_rec", "tau_rec", "rs_rec", "ds_rec", "ra_rec", "da_rec",
           "z_star", "tau_star", "rs_star", "ds_star", "ra_star", "da_star", "rd_star", "z_d", "tau_d", "ds_d",
           "rs_d", "tau_reio", "z_reio", "conf_time_reio", "age", "conformal_age", "YHe", "Neff", "Omega_m",
           "omega_m", "Omega_Lambda", "Omega0_fld", "m_ncdm_tot", "A_s", "n_s", "z_eq", "k_eq"]
Z_PK = (0.0, 0.5, 1.0, 2.0)
K_PK = np.geomspace(1e-4, 5.0, 260)
K_HALOFIT = np.geomspace(1e-4, 10.0, 220)
Z_HALOFIT_HIGH = (3.0, 5.0)


def _run(inp: dict):
    from classy import Class

    c = Class()
    c.set(inp)
    t0 = time.perf_counter()
    c.compute()
    return c, time.perf_counter() - t0


def _derived(c) -> dict:
    out = {}
    for n in DERIVED:
        try:
            out[n] = c.get_current_derived_parameters([n])[n]
        except Exception:  # not defined for this model (e.g. Omega0_fld without fluid)
            pass
    return out


TENSOR_ONLY = ("r", "modes", "n_t")  # CLASS refuses them when no C_l are requested


FAMILIES = ("bg", "recfast", "pk", "halofit", "tk", "cl")
K_F = np.array([1e-3, 1e-2, 0.05, 0.1, 0.5, 1.0])  # [1/Mpc] wavenumbers of the stored f(k, z)


def make_one(item) -> tuple[str, float, dict]:
    name, cmb_base, families = item
    base = {k: v for k, v in cmb_base.items() if k not in TENSOR_ONLY}
    path = os.path.join(OUT, f"{name}.npz")
    arrays: dict[str, np.ndarray] = {}
    timings = {}
    if set(families) != set(FAMILIES) and os.path.exists(path):
        old = np.load(path)
        arrays = {k: old[k] for k in old.files}
        timings = json.loads(str(arrays.get("meta/timings_s", "{}")))

    def meta(family, inp, t):
        arrays[f"meta/input_{family}"] = np.array(json.dumps(inp))
        timings[family] = t

    for fam in families:
        globals()[f"_family_{fam}"](base, cmb_base, arrays, meta)
    arrays["meta/name"] = np.array(name)
    arrays["meta/params"] = np.array(json.dumps(cmb_base))
    arrays["meta/timings_s"] = np.array(json.dumps(timings))
    np.savez_compressed(path, **arrays)
    return name, os.path.getsize(path) / 1e6, timings


def _family_bg(base, cmb_base, arrays, meta):
    # background + thermodynamics (HyRec, CLASS default)
    inp = {**base, "output": ""}
    c, t = _run(inp)
    meta("bg", inp, t)
    bg = c.get_background()
    rows = _rows(bg["z"], BG_Z)
    for k, v in bg.items():
        arrays[f"bg/{k}"] = np.asarray(v)[rows]
    th = c.get_thermodynamics()
    rows = _rows(th["z"], TH_Z)
    for k, v in th.items():
        arrays[f"th/{k}"] = np.asarray(v)[rows]
    for k, v in _derived(c).items():
        arrays[f"derived/{k}"] = np.asarray(v)



def _family_recfast(base, cmb_base, arrays, meta):
    inp = {**base, "output": "", "recombination": "recfast"}
    c, t = _run(inp)
    meta("recfast", inp, t)
    th = c.get_thermodynamics()
    rows = _rows(th["z"], TH_Z)
    for k, v in th.items():
        arrays[f"th_recfast/{k}"] = np.asarray(v)[rows]
    for k, v in _derived(c).items():
        arrays[f"derived_recfast/{k}"] = np.asarray(v)



def _family_pk(base, cmb_base, arrays, meta):
    zpk = ",".join(str(z) for z in Z_PK)
    inp = {**base, "output": "mPk", "P_k_max_1/Mpc": 5.0, "z_pk": zpk}
    c, t = _run(inp)
    meta("pk", inp, t)
    arrays["pk/k"] = K_PK
    arrays["pk/z"] = np.asarray(Z_PK)
    arrays["pk/lin"] = np.array([[c.pk_lin(k, z) for k in K_PK] for z in Z_PK])
    arrays["pk/cb_lin"] = np.array([[c.pk_cb_lin(k, z) for k in K_PK] for z in Z_PK])
    arrays["pk/sigma8"] = np.asarray(c.sigma8())
    arrays["pk/sigma8_cb"] = np.asarray(c.sigma8_cb())
    arrays["pk/growth_f"] = np.array([c.scale_independent_growth_factor_f(z) for z in Z_PK])
    arrays["pk/k_f"] = K_F
    arrays["pk/f_k"] = np.array([[c.scale_dependent_growth_factor_f(k, z) for k in K_F] for z in Z_PK])
    arrays["pk/f_k_cb"] = np.array([[c.scale_dependent_growth_factor_f_cb(k, z) for k in K_F] for z in Z_PK])
    arrays["pk/effective_f_sigma8"] = np.array([c.effective_f_sigma8(z) for z in Z_PK])
    arrays["pk/scale_independent_f_sigma8"] = np.array([c.scale_independent_f_sigma8(z) for z in Z_PK])


def _family_halofit(base, cmb_base, arrays, meta):
    # z <= 2 (the test redshifts) in one run, z = 3, 5 in a second one (z_max_pk changes CLASS's time
    # nodes, hence its interpolated P at z <= 2 by ~1e-6: each run keeps its own input)
    for suffix, zs in (("", Z_PK), ("_high", Z_HALOFIT_HIGH)):
        zpk = ",".join(str(z) for z in zs)
        inp = {**base, "output": "mPk", "P_k_max_1/Mpc": 20.0, "z_pk": zpk, "non_linear": "halofit"}
        c, t = _run(inp)
        meta("halofit" + suffix, inp, t)
        has_cb = c.Omega_nu != 0.0
        pfx = "halofit/"
        arrays[pfx + "k"] = K_HALOFIT
        arrays[pfx + "z" + suffix] = np.asarray(zs)
        arrays[pfx + "pk" + suffix] = np.array([[c.pk(k, z) for k in K_HALOFIT] for z in zs])
        arrays[pfx + "pk_lin" + suffix] = np.array([[c.pk_lin(k, z) for k in K_HALOFIT] for z in zs])
        arrays[pfx + "k_nl" + suffix] = c.nonlinear_scale(np.asarray(zs, dtype=float), len(zs))
        if has_cb:
            arrays[pfx + "pk_cb" + suffix] = np.array([[c.pk_cb(k, z) for k in K_HALOFIT] for z in zs])
            arrays[pfx + "k_nl_cb" + suffix] = c.nonlinear_scale_cb(np.asarray(zs, dtype=float), len(zs))
        # CLASS's own perturbation k grid and linear spectra on it at the requested z (for a HaloFit
        # stage-alone check: CLASS's linear input through boltzax's HaloFit)
        _, kc, _ = c.get_pk_and_k_and_z(nonlinear=False)
        kq = np.minimum(kc, kc[-1] * (1 - 1e-13))  # classy rejects k_last by rounding
        arrays[pfx + "class_k"] = kc
        arrays[pfx + "class_pk_lin" + suffix] = np.array([[c.pk_lin(k, z) for k in kq] for z in zs])
        if has_cb:
            arrays[pfx + "class_pk_cb_lin" + suffix] = np.array([[c.pk_cb_lin(k, z) for k in kq] for z in zs])


def _family_tk(base, cmb_base, arrays, meta):
    inp = {**base, "output": "mTk,vTk", "z_pk": "0,1", "P_k_max_1/Mpc": 1.0}
    c, t = _run(inp)
    meta("tk", inp, t)
    for zt in (0, 1):
        tk = c.get_transfer(z=zt)
        for k, v in tk.items():  # the full k table: tests interpolate to their k
            arrays[f"tk_z{zt}/{k}"] = np.asarray(v)



def _family_cl(base, cmb_base, arrays, meta):
    inp = {**cmb_base, "output": "tCl,pCl,lCl", "lensing": "yes", "l_max_scalars": 3000}
    if "modes" in cmb_base:
        inp["l_max_tensors"] = 600
    c, t = _run(inp)
    meta("cl", inp, t)
    for kind, cl in (("unlensed", c.raw_cl(3000)), ("lensed", c.lensed_cl(3000))):
        for k, v in cl.items():
            arrays[f"cl/{kind}_{k}"] = np.asarray(v)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="names to regenerate (default: all)")
    ap.add_argument("--families", nargs="*", choices=FAMILIES, default=list(FAMILIES),
                    help="families to (re)compute; the others are kept from the existing files")
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args(argv)
    try:
        import classy  # noqa: F401
    except ImportError:
        print("make_reference.py needs classy: pip install -e '.[oracle]'", file=sys.stderr)
        return 1
    os.makedirs(OUT, exist_ok=True)
    todo = {k: v for k, v in cosmologies().items() if not a.only or k in a.only}
    with Pool(a.jobs) as pool:
        items = [(k, v, tuple(a.families)) for k, v in todo.items()]
        for name, mb, timings in pool.imap_unordered(make_one, items):
            print(f"{name:12s} {mb:6.2f} MB  " + " ".join(f"{k}={v:.2f}s" for k, v in timings.items()), flush=True)
    index = {k: v for k, v in cosmologies().items()}
    with open(os.path.join(OUT, "index.json"), "w") as f:
        json.dump(index, f, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
