"""Write ``tests/reference/workflows/classy.npz`` and ``tests/reference/workflows/cobaya.npz``: what classy 3.4.1
returns to the scripts of ``tests/test_workflows.py`` and to the cobaya likelihood of ``tests/test_cobaya.py``.

Needs the ``oracle`` extra (classy) and, for the cobaya file, the ``cobaya`` extra.  About 30 s on 2 cores.

classy.npz (k in 1/Mpc, P in Mpc^3, H in 1/Mpc, distances in Mpc):

| key | content |
|---|---|
| `lazy/input` | JSON: classy's pars after `set_baseline('p18')` and `set(SCRIPT_REQUEST)` (output = mPk, lensing = no, z_pk = 0,0.5,1,2; the baseline's P_k_max_h/Mpc = 1) |
| `lazy/derived/<name>` | `get_current_derived_parameters(DERIVED)` |
| `lazy/z`, `lazy/Hubble`, `lazy/angular_distance`, `lazy/luminosity_distance` | classy's accessors at `lazy/z` |
| `lazy/pk_k` (400, 1e-4..0.66), `lazy/pk_z` (0, 0.25, ..., 2), `lazy/pk_lin` (n_z, n_k) | `pk_lin(k, z)` |
| `lazy/class_grid_k`, `lazy/class_grid_z` | CLASS's own grid (`get_pk_and_k_and_z(nonlinear=False)`) |
| `lazy/sigma8`, `lazy/f_sigma8_z`, `lazy/effective_f_sigma8` | sigma8; classy's f sigma8 estimate at 0.5, 1 |
| `lazy/bg/<column>` | `get_background()` rows with z <= 1e4 (every BG_STRIDE-th row), columns BG_COLUMNS |
| `lazy/th/<column>` | `get_thermodynamics()` rows with 200 <= z <= 3000 (every TH_STRIDE-th), columns TH_COLUMNS |

cobaya.npz: cobaya 3.6's classy theory (``theory: classy``, real classy) with the likelihood of
``tests/test_cobaya.py``: `meta/info` (JSON of the cobaya input, without the likelihood function),
`meta/classy_input` (JSON: the parameters cobaya passed to classy.set), `logpost`, `H`, `DA`, `rdrag`,
`sigma8`, `fsigma8`, `pk_lin`, `pk_nl` (cobaya's Pk_interpolator at `pk_k` x `pk_z`), and the inputs `z_bg`,
`z_fs8`, `pk_k`, `pk_z`.

Usage: ``python tools/make_workflow_reference.py``.
"""

from __future__ import annotations

import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "reference", "workflows")

DERIVED = ["h", "H0", "Omega_m", "Omega0_lambda", "omega_m", "100*theta_s", "100*theta_star", "z_rec", "rs_rec",
           "z_star", "rs_star", "z_d", "rs_d", "tau_reio", "z_reio", "age", "conformal_age", "YHe", "Neff",
           "m_ncdm_tot", "sigma8", "sigma8_cb"]
# the scripts' request after set_baseline('p18') (which asks for C_l, lensing and P_k_max_h/Mpc = 1)
SCRIPT_REQUEST = {"output": "mPk", "lensing": "no", "z_pk": "0,0.5,1,2"}
K_MAX_REF = 0.66  # [1/Mpc], below P_k_max_h/Mpc = 1 (h = 0.6686)
Z_BG = [0.0, 0.1, 0.5, 1.0, 2.0, 3.0, 10.0, 100.0, 1000.0]
BG_COLUMNS = ["z", "proper time [Gyr]", "conf. time [Mpc]", "H [1/Mpc]", "comov. dist.", "ang.diam.dist.",
              "lum. dist.", "comov.snd.hrz.", "(.)rho_cdm", "(.)rho_b", "(.)rho_g", "gr.fac. D", "gr.fac. f"]
TH_COLUMNS = ["z", "conf. time [Mpc]", "x_e", "kappa' [Mpc^-1]", "exp(-kappa)", "g [Mpc^-1]", "Tb [K]"]
BG_STRIDE = 40
TH_STRIDE = 20

# cobaya: the likelihood's requests (tests/test_cobaya.py builds the same model with theory boltzax)
COBAYA_Z_BG = [0.1, 0.5, 1.0, 2.0]
COBAYA_Z_FS8 = [0.5, 1.0]
COBAYA_PK_Z = [0.0, 0.5, 1.0, 2.0]
COBAYA_PK_K = list(np.geomspace(1e-3, 1.0, 12))
COBAYA_K_MAX = 5.0


def fid_input() -> dict:
    index = json.load(open(os.path.join(HERE, "..", "tests", "reference", "index.json")))
    return dict(index["fid"])


def cobaya_info(theory: dict) -> dict:
    """The cobaya input of tests/test_cobaya.py, likelihood function excluded: the fiducial cosmology with
    omega_cdm sampled, HMcode's bisection tight in both codes (hmcode_tol_sigma: CLASS's default 1e-6 leaves
    up to 1e-3 of noise in P_nl, tests/test_hmcode.py)."""
    fid = fid_input()
    params = {k: v for k, v in fid.items() if k not in ("omega_cdm", "N_ur", "N_ncdm", "m_ncdm")}
    params["omega_cdm"] = {"prior": {"min": 0.10, "max": 0.14}, "ref": fid["omega_cdm"], "latex": r"\omega_c"}
    extra = {"N_ur": fid["N_ur"], "N_ncdm": fid["N_ncdm"], "m_ncdm": fid["m_ncdm"], "hmcode_tol_sigma": 1e-10,
             "nonlinear_min_k_max": 20.0}
    name, opts = next(iter(theory.items()))
    return {"params": params, "theory": {name: {**opts, "extra_args": extra}}}


def cobaya_requirements() -> dict:
    return {"Hubble": {"z": COBAYA_Z_BG}, "angular_diameter_distance": {"z": COBAYA_Z_BG},
            "Pk_interpolator": {"z": COBAYA_PK_Z, "k_max": COBAYA_K_MAX, "nonlinear": (False, True)},
            "sigma8": None, "fsigma8": {"z": COBAYA_Z_FS8}, "rdrag": None}


def cobaya_values(pv) -> dict:
    """What the likelihood receives from its provider ``pv``."""
    lin = pv.get_Pk_interpolator(nonlinear=False)
    nl = pv.get_Pk_interpolator(nonlinear=True)
    k = np.asarray(COBAYA_PK_K)
    return {"H": np.asarray(pv.get_Hubble(COBAYA_Z_BG, units="1/Mpc")),
            "DA": np.asarray(pv.get_angular_diameter_distance(COBAYA_Z_BG)),
            "rdrag": float(pv.get_param("rdrag")), "sigma8": float(pv.get_param("sigma8")),
            "fsigma8": np.asarray(pv.get_fsigma8(COBAYA_Z_FS8)),
            "pk_lin": np.array([lin.P(z, k) for z in COBAYA_PK_Z]),
            "pk_nl": np.array([nl.P(z, k) for z in COBAYA_PK_Z])}


def gaussian_loglike(values: dict, data: dict) -> float:
    """-chi2/2 of every value against ``data`` with a 1 % error."""
    chi2 = 0.0
    for key, d in data.items():
        chi2 += float(np.sum(((np.asarray(values[key]) - d) / (0.01 * np.abs(d))) ** 2))
    return -0.5 * chi2


def make_cobaya(theory: dict, data: dict | None = None):
    """(model, likelihood values dict) for ``theory`` ({'classy': {}} or {'boltzax': {...}}); ``data`` (the
    likelihood's mock data) defaults to 1 % above a first evaluation."""
    from cobaya.likelihood import Likelihood
    from cobaya.model import get_model

    seen: dict = {}

    class WorkflowLike(Likelihood):
        def get_requirements(self):
            return cobaya_requirements()

        def logp(self, **params_values):
            seen.clear()
            seen.update(cobaya_values(self.provider))
            return gaussian_loglike(seen, data) if data is not None else 0.0

    info = cobaya_info(theory)
    info["likelihood"] = {"workflow": WorkflowLike}
    return get_model(info), seen


def main() -> None:
    import classy
    from classy import Class

    assert classy.__version__.lstrip("v").startswith("3.4.1"), classy.__version__
    os.makedirs(OUT, exist_ok=True)
    out: dict = {}
    # ---------------------------------------------------------------- one script's cosmology: set_baseline + P(k)
    c = Class()
    c.set_baseline("p18")
    c.set(SCRIPT_REQUEST)
    c.compute()
    out["lazy/input"] = json.dumps(c.pars, sort_keys=True)
    for n, v in c.get_current_derived_parameters(DERIVED).items():
        out[f"lazy/derived/{n}"] = v
    z = np.asarray(Z_BG)
    out["lazy/z"] = z
    out["lazy/Hubble"] = np.array([c.Hubble(zz) for zz in z])
    out["lazy/angular_distance"] = np.array([c.angular_distance(zz) for zz in z])
    out["lazy/luminosity_distance"] = np.array([c.luminosity_distance(zz) for zz in z])
    k = np.geomspace(1e-4, K_MAX_REF, 400)
    zp = np.linspace(0.0, 2.0, 9)
    out["lazy/pk_k"], out["lazy/pk_z"] = k, zp
    out["lazy/pk_lin"] = np.array([[c.pk_lin(kk, zz) for kk in k] for zz in zp])
    _, kg, zg = c.get_pk_and_k_and_z(nonlinear=False)
    out["lazy/class_grid_k"], out["lazy/class_grid_z"] = kg, zg
    out["lazy/sigma8"] = c.sigma8()
    out["lazy/f_sigma8_z"] = np.array([0.5, 1.0])
    out["lazy/effective_f_sigma8"] = np.array([c.effective_f_sigma8(zz) for zz in (0.5, 1.0)])
    bg = c.get_background()
    sel = np.nonzero(bg["z"] <= 1e4)[0][::BG_STRIDE]
    for col in BG_COLUMNS:
        out[f"lazy/bg/{col}"] = bg[col][sel]
    th = c.get_thermodynamics()
    sel = np.nonzero((th["z"] >= 200) & (th["z"] <= 3000))[0][::TH_STRIDE]
    for col in TH_COLUMNS:
        out[f"lazy/th/{col}"] = th[col][sel]
    np.savez_compressed(os.path.join(OUT, "classy.npz"), **out)
    print("wrote", os.path.join(OUT, "classy.npz"))

    # ---------------------------------------------------------------- cobaya with classy
    model, seen = make_cobaya({"classy": {}})
    point = {"omega_cdm": fid_input()["omega_cdm"]}
    model.logposterior(point)
    data = {k: np.asarray(v) * 1.01 for k, v in seen.items()}
    model, seen = make_cobaya({"classy": {}}, data)
    logpost = model.logposterior(point).logpost
    theory = model.theory["classy"]
    sent = {k: (v if isinstance(v, (int, float, str)) else str(v)) for k, v in theory.classy.pars.items()}
    info = cobaya_info({"classy": {}})
    out = {"meta/info": json.dumps(info, sort_keys=True, default=str), "meta/classy_input": json.dumps(sent,
                                                                                                     sort_keys=True),
           "logpost": logpost, "z_bg": np.asarray(COBAYA_Z_BG), "z_fs8": np.asarray(COBAYA_Z_FS8),
           "pk_k": np.asarray(COBAYA_PK_K), "pk_z": np.asarray(COBAYA_PK_Z)}
    out.update({f"data/{k}": v for k, v in data.items()})
    out.update({k: np.asarray(v) for k, v in seen.items()})
    np.savez_compressed(os.path.join(OUT, "cobaya.npz"), **out)
    print("wrote", os.path.join(OUT, "cobaya.npz"), "logpost", logpost, "classy input", sent)


if __name__ == "__main__":
    main()
