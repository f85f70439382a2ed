"""Write ``tests/reference/classy_api/values.npz``: classy 3.4.1's values of the accessors added for classy conformance
(derived parameters, Om_*(z), equality, unit constants) for three reference cosmologies spread over the box
(fid, ncdm3: three massive species, ok_neg: closed with w0-wa taken from w0wa_1), RECFAST (the fast test
fixture's recombination), output = '' (background + thermodynamics).  Needs the ``oracle`` extra.

Keys: ``<cosmo>/input`` (JSON of the exact classy input), ``<cosmo>/derived/<name>``, ``<cosmo>/Om_m`` ...
(at ``z`` = Z), ``<cosmo>/z_eq``, ``<cosmo>/k_eq``, ``units/<name>``.

Usage: ``python tools/make_classy_api_reference.py``.
"""

from __future__ import annotations

import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "reference", "classy_api", "values.npz")
Z = np.array([0.0, 0.5, 1.0, 3.0, 1100.0])
DERIVED = ["m_ncdm_tot", "Neff", "n_e", "r_0002", "alpha_t", "ds_star", "k_eq", "a_eq", "z_eq", "H_eq", "tau_eq",
           "exp_m_2_tau_As", "Omega_m", "omega_m", "Omega0_lambda", "Omega0_fld", "conformal_age", "ds_rec",
           "ds_d_h", "rs_d_h", "da_rec_h", "ra_rec_h"]
UNITS = ["density_factor", "Mpc_to_m", "kg_to_eV", "c", "kgm3_to_eVMpc3", "kg_to_Msol", "kgm3_to_MsolMpc3"]


def cosmologies() -> dict:
    index = json.load(open(os.path.join(HERE, "..", "tests", "reference", "index.json")))
    closed = {**index["ok_neg"], "Omega_Lambda": 0.0, "w0_fld": -0.9, "wa_fld": -0.2}
    return {"fid": index["fid"], "ncdm3": index["ncdm3"], "ok_neg_w0wa": closed}


def main() -> None:
    from classy import Class

    out = {"Z": Z}
    for name, inp in cosmologies().items():
        inp = {**inp, "recombination": "recfast"}
        c = Class()
        c.set(inp)
        c.compute()
        out[f"{name}/input"] = json.dumps(inp, sort_keys=True)
        for n, v in c.get_current_derived_parameters(DERIVED).items():
            out[f"{name}/derived/{n}"] = v
        for f in ("Om_m", "Om_b", "Om_cdm", "Om_ncdm"):
            out[f"{name}/{f}"] = np.asarray(getattr(c, f)(Z))
        out[f"{name}/z_eq"], out[f"{name}/k_eq"] = float(c.z_eq), float(c.k_eq)
    c = Class()
    for u in UNITS:
        out[f"units/{u}"] = getattr(c, u)
    np.savez(OUT, **out)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
