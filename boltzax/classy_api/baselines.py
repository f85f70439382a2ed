"""classy's ``set_baseline`` settings (classy.pyx 3.4.1, ``Class.set_baseline``): Planck 2018 best fits as in
MontePython's baseline input files (arXiv:1210.7183, 1804.07261)."""

from __future__ import annotations

from ..errors import CosmoSevereError

_COMMON = {"N_ur": 2.0328, "N_ncdm": 1, "m_ncdm": 0.06, "T_ncdm": 0.71611,
           "output": "mPk, tCl, pCl, lCl", "lensing": "yes", "P_k_max_h/Mpc": 1.0}

BASELINES = {
    # Planck TTTEEE + lensing + BAO
    "p18lb": {"omega_b": 2.255065e-02, "omega_cdm": 1.193524e-01, "H0": 6.776953e+01, "A_s": 2.123257e-09,
              "n_s": 9.686025e-01, "z_reio": 8.227371e+00, **_COMMON, "non_linear": "halofit"},
    # Planck TTTEEE + lensing
    "p18l": {"omega_b": 2.236219e-02, "omega_cdm": 1.201668e-01, "H0": 6.726996e+01, "A_s": 2.102880e-09,
             "n_s": 9.661489e-01, "z_reio": 7.743057e+00, **_COMMON, "non_linear": "halofit"},
    # Planck TTTEEE
    "p18": {"omega_b": 2.237064e-02, "omega_cdm": 1.214344e-01, "H0": 6.685836e+01, "A_s": 2.112203e-09,
            "n_s": 9.622800e-01, "z_reio": 7.795700e+00, **_COMMON},
}


def baseline(name: str) -> dict:
    """The parameter dict of classy's baseline ``name`` (classy's matching rules, in its order)."""
    if not isinstance(name, str):
        raise CosmoSevereError(f"Unrecognized baseline case '{name}'")
    low = name.lower()
    if ("planck" in name and "18" in name and "lens" in name and "bao" in name) or "p18lb" in low:
        return dict(BASELINES["p18lb"])
    if ("planck" in name and "18" in name and "lens" in name) or "p18l" in low:
        return dict(BASELINES["p18l"])
    if ("planck" in name and "18" in name) or "p18" in low:
        return dict(BASELINES["p18"])
    raise CosmoSevereError(f"Unrecognized baseline case '{name}'")
