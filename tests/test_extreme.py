"""Extreme but valid cosmologies (issue 17) against CLASS v3.4.1: P(k, z) and sigma8 within 3e-3.

References: tests/reference/extreme/<name>.npz from tools/make_extreme_reference.py (one change each from
Planck 2018 + one 0.06 eV neutrino: m_ncdm = 1 eV in three degenerate species, N_ur = 5, w0 = -0.5 with
wa = -1, Omega_k = +-0.1, tau_reio = 0.15, h = 0.55 and 0.85).  boltzax through `boltzax.Class` at the
default precision, the same input as CLASS (output = mPk, P_k_max_1/Mpc = 1, z_max_pk = 1); P compared at
40 wavenumbers 5e-4 ... 1 /Mpc and z = 0, 1.  Two compilations (one with the fluid); marked slow.
"""

from __future__ import annotations

import glob
import json
import os

import numpy as np
import pytest

from boltzax import Class

HERE = os.path.join(os.path.dirname(__file__), "reference", "extreme")
NAMES = ("m_ncdm_1eV_x3", "nur_5", "w0m05_wam1", "ok_p01", "ok_m01", "tau_015", "h_055", "h_085")
TOL_PK, TOL_S8 = 3e-3, 3e-3


def test_every_reference_is_present():
    """A missing reference fails (the comparison would otherwise not run)."""
    have = {os.path.basename(f)[:-4] for f in glob.glob(os.path.join(HERE, "*.npz"))}
    assert set(NAMES) <= have, f"missing {sorted(set(NAMES) - have)}: run tools/make_extreme_reference.py"


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_extreme_matches_class(name):
    ref = np.load(os.path.join(HERE, f"{name}.npz"))
    c = Class()
    c.set(json.loads(str(ref["input"])))
    c.compute()
    pk = np.array([[c.pk_lin(k, z) for k in ref["k"]] for z in ref["z"]])
    err_pk = np.max(np.abs(pk / ref["pk_lin"] - 1))
    err_s8 = abs(c.sigma8() / float(ref["sigma8"]) - 1)
    print(f"{name}: max |dP/P| = {err_pk:.2e}, |d sigma8| = {err_s8:.2e}")
    assert err_pk < TOL_PK and err_s8 < TOL_S8, (name, err_pk, err_s8)
