"""CMB C_l end to end: boltzax.cmb_cls against CLASS, Class.raw_cl / lensed_cl / get_sources, errors, CLI cl.dat.

Accuracy: default precision, l_max = 3000 (as the reference runs, tests/reference/<name>.npz 'cl/unlensed_*',
CLASS l_max_scalars = 3000), three cosmologies of one static structure (one ncdm species), so one compiled
program serves them all. Logic tests use the "fast" preset at l_max = 300.
"""

from __future__ import annotations

import os

import jax
import numpy as np
import pytest

from boltzax import Class, cmb_cls, compute, get_precision
from boltzax.cmb import cmb_spectra
from boltzax.errors import CosmoSevereError, NotImplementedOutputError
from boltzax.lensing import lensed_cl_jit
from boltzax.params import PLANCK18
from boltzax.testing import load_reference, reference_params

ACCURACY_COSMOLOGIES = ("fid", "lcdm_1", "nur")
# measured today (this file's test prints them): max over 2 <= l <= 2500 of |boltzax/CLASS - 1| (TE: of
# sqrt(TT EE)), phi-phi over 2 <= l <= 2000. The target of the CMB issue is 1e-3; see CHANGELOG.md (session 7:
# TT 1.1e-4, EE 1.09e-3 and TE 1.04e-3 at l = 2 (lcdm_1; 7.7e-4 / 5.1e-4 elsewhere), pp 3.1e-4).
TOL = {"tt": 5e-4, "ee": 1.5e-3, "te": 1.5e-3, "pp": 5e-4}
# BB: CLASS's lensed reference used unlensed C_l (and C_pp) to 3990, this test's only to 3000 (l_max 2255 +
# delta_l_max): the deflection variance converges slowly in L (lensing.py docstring), BB at l = 2000 moves by ~2e-2
TOL_LENSED = {"tt": 1e-3, "ee": 2e-3, "te": 2e-3, "bb": 3e-2}

FAST_INPUT = dict(PLANCK18, output="tCl,pCl,lCl", lensing="yes", l_max_scalars=300)


def _errors(cl: dict, ref: dict, prefix: str, keys, l_hi: dict) -> dict:
    out = {}
    for x in keys:
        r = ref[f"{prefix}{x}"]
        hi = l_hi[x]
        c = np.asarray(cl[x])[2:hi + 1]
        if x == "te":
            den = np.sqrt(ref[f"{prefix}tt"][2:hi + 1] * ref[f"{prefix}ee"][2:hi + 1])
        else:
            den = np.abs(r[2:hi + 1])
        e = np.abs(c - r[2:hi + 1]) / den
        out[x] = (float(e.max()), int(np.argmax(e)) + 2)
    return out


@pytest.fixture(scope="module")
def default_cls():
    """Unlensed C_l to l = 3000 at default precision for the accuracy cosmologies (one compiled program)."""
    prec = get_precision("default")
    out = {}
    for name in ACCURACY_COSMOLOGIES:
        res = compute(reference_params(name), prec)
        out[name] = jax.device_get(cmb_spectra(res, prec, 3000, lensing=False)["unlensed"])
    return out


@pytest.mark.parametrize("name", ACCURACY_COSMOLOGIES)
def test_unlensed_cls_match_class(default_cls, name):
    ref = load_reference(name)
    cl = default_cls[name]
    err = _errors(cl, ref, "cl/unlensed_", ("tt", "ee", "te", "pp"), {"tt": 2500, "ee": 2500, "te": 2500, "pp": 2000})
    top = _errors(cl, ref, "cl/unlensed_", ("tt", "ee", "te"), {"tt": 3000, "ee": 3000, "te": 3000})
    print(f"\n{name} unlensed, max rel. error (at l) 2..2500 (pp 2..2000): "
          + ", ".join(f"{k} {v[0]:.1e} ({v[1]})" for k, v in err.items())
          + "; 2..3000: " + ", ".join(f"{k} {v[0]:.1e} ({v[1]})" for k, v in top.items()))
    for k, (e, _) in err.items():
        assert e < TOL[k], (name, k, e)


def test_lensed_cls_match_class(default_cls):
    """Lensing of boltzax's unlensed C_l (to 3000) at l_max = 2255 (so that l_max + delta_l_max <= 3000)
    against CLASS's lensed C_l (its unlensed to 3990): compared for l <= 2000."""
    ref = load_reference("fid")
    cl = lensed_cl_jit({k: np.asarray(v) for k, v in default_cls["fid"].items()}, 2255)
    err = _errors(cl, ref, "cl/lensed_", ("tt", "ee", "te", "bb"), {"tt": 2000, "ee": 2000, "te": 2000, "bb": 2000})
    print("\nfid lensed, max rel. error (at l) 2..2000: " + ", ".join(f"{k} {v[0]:.1e} ({v[1]})" for k, v in err.items()))
    for k, (e, _) in err.items():
        assert e < TOL_LENSED[k], (k, e)


@pytest.fixture(scope="module")
def fast_class():
    c = Class(precision="fast")
    c.set(FAST_INPUT)
    c.compute()
    return c


def test_raw_and_lensed_cl_layout(fast_class):
    raw, len_ = fast_class.raw_cl(), fast_class.lensed_cl()
    assert sorted(raw) == sorted(len_) == ["bb", "ee", "ell", "pp", "te", "tp", "tt"]  # classy 3.4.1's keys
    assert len(raw["tt"]) == 300 + int(0.33 * 300) + 1 and len(len_["tt"]) == 301  # CLASS: l_max + delta_l_max
    np.testing.assert_array_equal(raw["ell"], np.arange(len(raw["tt"])))
    for cl in (raw, len_):
        assert all(cl[k][0] == cl[k][1] == 0.0 for k in ("tt", "ee", "te", "pp"))
        assert np.all(cl["tt"][2:] > 0) and np.all(cl["ee"][2:] > 0) and np.all(cl["pp"][2:] > 0)
    # dimensionless, CLASS's normalisation: l(l+1)C_l/2pi T_cmb^2 ~ 5800 muK^2 at the first peak
    ell = np.arange(301)
    d_tt = ell * (ell + 1) * raw["tt"][:301] / (2 * np.pi) * (2.7255e6) ** 2
    assert 5000 < d_tt[200:240].max() < 6500
    # scalar modes: BB from lensing only (CLASS's fast lensing method, beta <= pi/16, is poor at l < 10 for l_max 300)
    assert np.all(raw["bb"] == 0.0) and np.all(len_["bb"][10:] > 0)
    assert np.max(np.abs(len_["tt"][2:] / raw["tt"][2:301] - 1)) < 0.05
    np.testing.assert_allclose(fast_class.raw_cl(100)["tt"], raw["tt"][:101])


def test_beyond_l_max_raises_naming_it(fast_class):
    with pytest.raises(CosmoSevereError, match="lmax=399"):
        fast_class.raw_cl(400)
    with pytest.raises(CosmoSevereError, match="lmax=300"):
        fast_class.lensed_cl(301)


def test_get_sources(fast_class):
    src, k, tau = fast_class.get_sources()
    assert set(src) == {"t0", "t1", "t2", "p", "phi_plus_psi"}
    assert src["t0"].shape == (len(k), len(tau)) and np.all(np.diff(k) > 0) and np.all(np.diff(tau) > 0)


def test_native_matches_class(fast_class):
    res = compute(fast_class._res.params, get_precision("fast"))
    cl = cmb_cls(res, "fast", 300, lensing=True)
    assert sorted(cl) == ["bb", "ee", "ell", "ep", "pp", "te", "tp", "tt"]
    np.testing.assert_allclose(np.asarray(cl["tt"]), fast_class.lensed_cl()["tt"], rtol=1e-12)


@pytest.mark.parametrize("extra, error, match", [
    ({"modes": "s,v"}, NotImplementedOutputError, "vector"),  # tensors: tests/test_tensors.py
    ({"output": "tCl", "lensing": "yes"}, CosmoSevereError, "lensing"),
    ({"Omega_k": 0.03}, NotImplementedOutputError, "Omega_k"),
])
def test_unsupported_requests_are_clear_errors(extra, error, match):
    c = Class(precision="fast")
    c.set(dict(FAST_INPUT, **extra))
    with pytest.raises(error, match=match):
        c.compute()


def test_no_cl_requested_errors():
    c = Class(precision="fast")
    c.set(dict(PLANCK18, output=""))
    with pytest.raises(CosmoSevereError, match="No Cl computed"):
        c.raw_cl()
    with pytest.raises(CosmoSevereError, match="No lensed Cl computed"):
        c.lensed_cl()
    with pytest.raises(CosmoSevereError, match="No sources"):
        c.get_sources()


def test_keys_follow_output_as_classy():
    from boltzax.classy_api.cmb import cl_keys

    assert cl_keys(["tCl"]) == ["tt"]
    assert cl_keys(["tCl", "pCl"]) == ["tt", "ee", "te", "bb"]
    assert cl_keys(["tCl", "lCl"]) == ["tt", "pp", "tp"]
    assert cl_keys(["pCl", "lCl"]) == ["ee", "bb", "pp"]  # classy 3.4.1 has no 'ep' key


def test_cli_writes_cl_dat(fast_class, tmp_path):
    from boltzax.cli import main

    ini = tmp_path / "cmb.ini"
    ini.write_text("".join(f"{k} = {v}\n" for k, v in FAST_INPUT.items()))
    out = tmp_path / "out"
    assert main(["run", str(ini), "--output", str(out), "--precision", "fast"]) == 0
    for f in ("cl.dat", "cl_lensed.dat", "cl.png"):
        assert os.path.getsize(out / f"cmb_{f}") > 0
    text = (out / "cmb_cl.dat").read_text()
    assert text.startswith("# dimensionless total [l(l+1)/2pi] C_l's") and "phiphi" in text and "Ephi" in text
    data = np.loadtxt(out / "cmb_cl.dat")
    raw = fast_class.raw_cl()
    ell = data[:, 0]
    assert ell[0] == 2 and ell[-1] == len(raw["tt"]) - 1
    np.testing.assert_allclose(data[:, 1], ell * (ell + 1) / (2 * np.pi) * raw["tt"][2:], rtol=1e-10)
    lensed = np.loadtxt(out / "cmb_cl_lensed.dat")
    assert lensed[-1, 0] == 300
    np.testing.assert_allclose(lensed[:, 4], ell[:299] * (ell[:299] + 1) / (2 * np.pi)
                               * fast_class.lensed_cl()["bb"][2:], rtol=1e-10)
