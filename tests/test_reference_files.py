"""The stored CLASS reference data is present, complete and self-consistent (cheap checks)."""

import numpy as np
import pytest

from boltzax.testing import reference_class_input, reference_params

FAMILIES = ("bg", "recfast", "pk", "halofit", "tk", "cl")


def test_enough_cosmologies(reference_names):
    lcdm = [n for n in reference_names if n.startswith("lcdm_")]
    assert "fid" in reference_names and len(lcdm) >= 8
    for ext in ("w0wa_1", "ok_pos", "ok_neg", "tensor_r01", "ncdm2", "ncdm3", "nur"):
        assert ext in reference_names


def test_keys_and_inputs(reference_names, reference):
    for name in reference_names:
        ref = reference(name)
        for fam in FAMILIES:
            inp = reference_class_input(ref, fam)
            assert isinstance(inp, dict) and "h" in inp
        for key in ("bg/H [1/Mpc]", "th/x_e", "th_recfast/x_e", "derived/100*theta_s", "pk/lin", "halofit/pk",
                    "tk_z0/d_cdm", "cl/lensed_tt", "cl/unlensed_pp"):
            assert key in ref, (name, key)
        assert ref["pk/lin"].shape == (len(ref["pk/z"]), len(ref["pk/k"]))
        assert ref["cl/lensed_tt"].shape == (3001,)


@pytest.mark.parametrize("name", ["fid", "lcdm_5", "ok_neg", "ncdm3"])
def test_inputs_parse_and_match(name, reference_names, reference):
    ref = reference(name)
    p = reference_params(ref)
    assert float(p.h) == pytest.approx(float(ref["derived/h"]), rel=1e-12)
    # H(z=0) = h * 100 km/s/Mpc / c
    z = ref["bg/z"]
    assert ref["bg/H [1/Mpc]"][np.argmin(z)] == pytest.approx(float(p.h) * 1e5 / 2.99792458e8, rel=1e-10)
