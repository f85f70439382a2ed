"""Accuracy table of boltzax.pt vs CLASS-PT (all reference cosmologies, z, variants).

Errors: max over 0.005 <= k <= 0.3 h/Mpc, all cosmologies and z, of |ours - CLASS-PT| divided by
max_k |CLASS-PT| of the piece (get_pk_mult) or of the monopole (wrappers).  Two columns:
  * CLASS-PT layer (classpt_api.ClassPT, CLASS-PT's linear input and numerical chain);
  * native path (spectra.components on the linear P at the FFTLog nodes + one spline stage),
    which differs from CLASS-PT by CLASS-PT's own input noise (see classpt_api docstring).

Run: .venv/bin/python tools/pt_accuracy_report.py
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import boltzax  # noqa: F401
from boltzax.pt import bias, classpt_api as cpt, spectra

REF = Path(__file__).resolve().parents[1] / "tests" / "reference" / "classpt" / "classpt_ref.npz"
GROUPS = {
    "real-space matter 0, 10, 14": [0, 10, 14],
    "real-space bias 2, 3, 6": [2, 3, 6],
    "AP bias monopoles 1, 4, 5": [1, 4, 5],
    "F_G2 multipoles 7-9": [7, 8, 9],
    "counterterm shapes 11-13": [11, 12, 13],
    "tree multipoles 15-20": list(range(15, 21)),
    "one-loop matter multipoles 21-29": list(range(21, 30)),
    "bias multipoles 30-39": list(range(30, 40)),
}


def main() -> None:
    R = dict(np.load(REF))
    B = json.loads(str(R["bias"]))
    nc = R["h"].size
    mats = spectra.loop_matrices()
    kh = R["k_h"]
    native = jax.jit(jax.vmap(lambda pk, f, h, rs, hr, Dr: bias.pieces_at_k(
        spectra.components(pk, f, h, rs, hr, Dr, mats), kh), in_axes=(0, 0, None, None, 0, 0)))
    err_l = {g: 0.0 for g in GROUPS}
    err_n = {g: 0.0 for g in GROUPS}
    werr = {}
    for c in range(nc):
        h = R["h"][c]
        n = int(R["n_pt"][c])
        pt = cpt.ClassPT(np.exp(R["lnpk_pt"][c][:, :n]), R["f_z"][c], h, R["rs_drag"][c], R["z"],
                         R["tau0"][c], R["rs_rec"][c], tau_quirk=(R["tau_c"][c], R["tau_l"][c]),
                         H_z=R["H_z"][c], DA_z=R["DA_z"][c], Omega_g=R["Omega_g"][c])
        nat = np.asarray(native(jnp.asarray(R["pk_lin_cb_fftlog"][c] * h ** 3), R["f_z"][c], h,
                                R["rs_drag"][c], R["AP_hratio"][c], R["AP_Dratio"][c]))
        conv = np.full(48, h ** 3)
        conv[10:14] = h
        for iz, z in enumerate(R["z"]):
            theirs = R["pk_mult"][c, iz]
            ours = pt.get_pk_mult(kh * h, z)[:48]
            natz = nat[iz] / conv[:, None]
            for g, idx in GROUPS.items():
                amp = np.abs(theirs[idx]).max(1)
                err_l[g] = max(err_l[g], (np.abs(ours[idx] - theirs[idx]).max(1) / amp).max())
                err_n[g] = max(err_n[g], (np.abs(natz[idx] - theirs[idx]).max(1) / amp).max())
            pt.initialize_output(kh * h, z)
            b = (B["b1"], B["b2"], B["bG2"], B["bGamma3"])
            w = {"pk_mm_real": pt.pk_mm_real(0.0),
                 "pk_gg_l0": pt.pk_gg_l0(*b, B["cs0"], B["Pshot"], 0.0, 0.0, B["b4"]),
                 "pk_gg_l2": pt.pk_gg_l2(*b, B["cs2"], 0.0, B["b4"]),
                 "pk_gg_l4": pt.pk_gg_l4(*b, B["cs4"], B["b4"])}
            mono = np.abs(R["pk_gg_l0"][c, iz]).max()
            for name, val in w.items():
                key = "pk_mm_real_cs0" if name == "pk_mm_real" else name
                norm = np.abs(R[key][c, iz]).max() if name == "pk_mm_real" else mono
                werr[name] = max(werr.get(name, 0.0), np.abs(val - R[key][c, iz]).max() / norm)
    print(f"{nc} cosmologies x {R['z'].size} z, 0.005 <= k <= 0.3 h/Mpc")
    print(f"{'group':36s} {'CLASS-PT layer':>15s} {'native path':>12s}")
    for g in GROUPS:
        print(f"{g:36s} {err_l[g]:15.1e} {err_n[g]:12.1e}")
    for name, e in werr.items():
        print(f"{name + ' (/ monopole)':36s} {e:15.1e}")


if __name__ == "__main__":
    main()
