"""Write CLASS's tensor-mode C_l to ``tests/reference/tensors/<name>.npz`` (needs classy 3.4.1).

Usage: ``python tools/make_tensor_reference.py [NAME ...]`` (default: all of COSMOLOGIES).

CLASS run: ``modes = t`` (tensors only), ``output = tCl, pCl``, ``lensing = no``, ``l_max_tensors = 600``, CLASS's
default precision and tensor settings (tensor_method = tm_massless_approximation, hierarchy = optimal).
Stored: ``cl_tt, cl_ee, cl_te, cl_bb`` (float64, l = 0..600, classy ``raw_cl``: dimensionless C_l), ``input``
(JSON of the CLASS input), the derived ``tau0``, ``tau_rec``, ``ra_rec``, ``A_s`` and CLASS's ``n_t``,
``alpha_t`` as passed (for scc cosmologies: CLASS's input.c formulas with the cosmology's n_s, since CLASS
with modes = t reads neither n_s nor ln10^{10}A_s; the scc path itself is checked with modes = s,t against
tests/reference/tensor_r01.npz).
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "reference", "tensors")

L_MAX_T = 600
BASE = {"h": 0.6732117, "omega_b": 0.0223828, "omega_cdm": 0.1201075, "ln10^{10}A_s": 3.044784,
        "n_s": 0.9660499, "tau_reio": 0.05430842, "N_ur": 2.0328, "N_ncdm": 1, "m_ncdm": 0.06}
COSMOLOGIES = {
    # Planck 2018 + one 0.06 eV neutrino, r = 0.1, n_t = alpha_t = scc (CLASS default)
    "fid_r01": {**BASE, "r": 0.1},
    # heavier neutrino, other h / omega_cdm / omega_b / tau_reio (tests/reference lcdm_1), r = 0.2
    "lcdm1_r02": {**BASE, "h": 0.62, "omega_b": 0.021, "omega_cdm": 0.135, "ln10^{10}A_s": 2.95, "n_s": 0.99,
                  "tau_reio": 0.05, "m_ncdm": 0.25, "r": 0.2},
    # N_ur varied, n_t and alpha_t given as numbers
    "nur_nt": {**BASE, "N_ur": 2.5, "r": 0.05, "n_t": -0.03, "alpha_t": 0.01, "tau_reio": 0.08},
}


def run(name: str) -> None:
    from classy import Class

    cosmo = dict(COSMOLOGIES[name])
    # with modes = t CLASS reads A_s (not ln10^{10}A_s) and not n_s (input.c 1.b.2): n_s only enters through
    # n_t, alpha_t = scc, so these are passed as the numbers CLASS's scc formulas give (input.c)
    r, n_s = cosmo["r"], cosmo.pop("n_s")
    cosmo["A_s"] = 1e-10 * np.exp(cosmo.pop("ln10^{10}A_s"))
    cosmo.setdefault("n_t", -r / 8.0 * (2.0 - r / 8.0 - n_s))
    cosmo.setdefault("alpha_t", r / 8.0 * (r / 8.0 + n_s - 1.0))
    inp = dict(cosmo, modes="t", output="tCl,pCl", lensing="no", l_max_tensors=L_MAX_T)
    c = Class()
    c.set(inp)
    c.compute()
    cl = c.raw_cl(L_MAX_T)
    der = c.get_current_derived_parameters(["conformal_age", "tau_rec", "ra_rec", "A_s"])
    n_t, alpha_t = inp["n_t"], inp["alpha_t"]
    os.makedirs(OUT, exist_ok=True)
    np.savez_compressed(os.path.join(OUT, f"{name}.npz"), cl_tt=cl["tt"], cl_ee=cl["ee"], cl_te=cl["te"],
                        cl_bb=cl["bb"], ell=cl["ell"], input=json.dumps(inp), tau0=der["conformal_age"],
                        tau_rec=der["tau_rec"], ra_rec=der["ra_rec"], A_s=der["A_s"], n_t=n_t, alpha_t=alpha_t)
    c.struct_cleanup()
    print(name, "bb[2,100,300]", cl["bb"][[2, 100, 300]])


if __name__ == "__main__":
    for n in sys.argv[1:] or list(COSMOLOGIES):
        run(n)
