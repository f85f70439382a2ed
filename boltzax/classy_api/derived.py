"""classy's ``get_current_derived_parameters``: every name classy 3.4.1 accepts (classy.pyx), with its units.

Names of physics boltzax computes return its values; names of physics boltzax lacks (slow-roll potential
V_i, spectral distortions, the damping scale rd_star) raise `NotImplementedOutputError` naming them; names
classy does not know raise `CosmoSevereError` "... was not recognized as a derived parameter", as classy.
"""

from __future__ import annotations

import math

from .. import constants as C
from ..errors import CosmoSevereError, NotImplementedOutputError

# every name of classy 3.4.1's get_current_derived_parameters (classy.pyx), in its order
CLASSY_DERIVED = (
    "h", "H0", "Omega0_lambda", "Omega_Lambda", "Omega0_fld", "age", "conformal_age", "m_ncdm_in_eV", "m_ncdm_tot",
    "Neff", "Omega_m", "omega_m", "xi_idr", "N_dg", "Gamma_0_nadm", "a_dark", "tau_reio", "z_reio", "z_rec",
    "tau_rec", "rs_rec", "rs_rec_h", "ds_rec", "ds_rec_h", "ra_rec", "ra_rec_h", "da_rec", "da_rec_h", "z_star",
    "tau_star", "rs_star", "ds_star", "ra_star", "da_star", "rd_star", "z_d", "tau_d", "ds_d", "ds_d_h", "rs_d",
    "rs_d_h", "conf_time_reio", "100*theta_s", "100*theta_star", "theta_s_100", "theta_star_100", "YHe", "n_e",
    "A_s", "ln10^{10}A_s", "ln_A_s_1e10", "n_s", "alpha_s", "beta_s", "r", "r_0002", "n_t", "alpha_t", "V_0",
    "V_1", "V_2", "V_3", "V_4", "epsilon_V", "eta_V", "ksi_V^2", "exp_m_2_tau_As", "phi_min", "phi_max", "sigma8",
    "sigma8_cb", "k_eq", "a_eq", "z_eq", "H_eq", "tau_eq", "g_sd", "y_sd", "mu_sd",
)
_NOT_IMPLEMENTED = {
    "rd_star": "the photon damping scale ('compute damping scale')",
    **{n: "inflationary potentials (P_k_ini type = inflation_*)" for n in (
        "V_0", "V_1", "V_2", "V_3", "V_4", "epsilon_V", "eta_V", "ksi_V^2", "phi_min", "phi_max")},
    **{n: "spectral distortions (output = Sd)" for n in ("g_sd", "y_sd", "mu_sd")},
}
_ZERO_WITHOUT_SPECIES = ("xi_idr", "N_dg", "Gamma_0_nadm", "a_dark", "beta_s")  # species/terms boltzax lacks


class DerivedMixin:
    def get_current_derived_parameters(self, names) -> dict:
        """classy's derived-parameter dictionary for ``names`` (a list of classy names; units as classy:
        H0 in km/s/Mpc, ages in Gyr, distances and conformal times in Mpc, *_h in Mpc/h, k_eq and H_eq in
        1/Mpc, n_e in m^-3, masses in eV)."""
        if not isinstance(names, (list, tuple)):
            raise CosmoSevereError("Deprecated: get_current_derived_parameters expects a list of names")
        out = {}
        for name in names:
            out[name] = self._derived_value(name)
        return out

    def _derived_value(self, name):
        if name not in CLASSY_DERIVED:
            raise CosmoSevereError(f"{name} was not recognized as a derived parameter")
        if name in _NOT_IMPLEMENTED:
            raise NotImplementedOutputError(f"derived parameter '{name}': {_NOT_IMPLEMENTED[name]} not implemented "
                                            "in boltzax")
        if name in _ZERO_WITHOUT_SPECIES:
            return 0.0
        from ..thermo.thermodynamics import derived_parameters

        r = self._r()
        p = r.params
        h = float(p.h)
        th = derived_parameters(r.thermo)
        if name in th:
            return th[name]
        if name.endswith("_h") and name[:-2] in ("rs_rec", "ds_rec", "ra_rec", "da_rec", "ds_d", "rs_d"):
            return self._derived_value(name[:-2]) * h
        dens = self._dens()
        A_s, n_s, rr = float(p.A_s), float(p.n_s), float(p.r)
        alpha_t = rr / 8.0 * (rr / 8.0 + n_s - 1.0)  # CLASS input.c: alpha_t = scc
        if name in ("sigma8", "sigma8_cb"):
            if self._pk is None:
                raise CosmoSevereError(f"No power spectrum computed. In order to get {name}, you must add mPk to "
                                       "the list of outputs.")
            return float(getattr(self, name))
        if name in ("k_eq", "a_eq", "z_eq", "H_eq", "tau_eq"):
            a_eq, H_eq = self._equality()
            return {"k_eq": a_eq * H_eq, "a_eq": a_eq, "z_eq": 1.0 / a_eq - 1.0, "H_eq": H_eq,
                    "tau_eq": float(r.background.tau_of_z(1.0 / a_eq - 1.0))}[name]
        if name == "m_ncdm_in_eV":
            if not p.n_ncdm:
                raise CosmoSevereError("m_ncdm_in_eV: no ncdm species (N_ncdm = 0)")
            return float(p.m_ncdm[0])
        if name == "r_0002":  # r at k = 0.002/Mpc (classy.pyx)
            lk = math.log(0.002 / float(p.k_pivot))
            return rr * (0.002 / float(p.k_pivot)) ** (float(p.n_t) - n_s - 1 + 0.5 * float(p.alpha_s) * lk)
        if name == "n_e":  # electrons today [m^-3] (thermodynamics.c)
            H0 = h * C.H0_100 * C.c / C.Mpc_over_m
            return 3.0 * H0**2 * float(dens["Omega0_b"]) / (8.0 * math.pi * C.G * C.m_H) * (1.0 - th["YHe"])
        if name == "ds_star":
            return th["rs_star"] / (1.0 + th["z_star"])
        table = {
            "h": h, "H0": 100.0 * h, "Omega0_lambda": dens["Omega0_lambda"], "Omega_Lambda": dens["Omega0_lambda"],
            "Omega0_fld": dens["Omega0_fld"], "age": r.background.age_Gyr, "conformal_age": r.background.conformal_age,
            # CLASS's m_ncdm_tot is the ncdm density in eV (Omega_ncdm h^2 93.14 eV), not the sum of masses
            "m_ncdm_tot": dens["Omega0_ncdm_tot"] * h * h * 93.14, "Neff": dens["Neff"], "Omega_m": dens["Omega0_m"],
            "omega_m": dens["Omega0_m"] * h * h, "A_s": A_s, "ln10^{10}A_s": math.log(1e10 * A_s),
            "ln_A_s_1e10": math.log(1e10 * A_s), "n_s": n_s, "alpha_s": float(p.alpha_s), "r": rr,
            "n_t": float(p.n_t), "alpha_t": alpha_t, "exp_m_2_tau_As": math.exp(-2.0 * th["tau_reio"]) * A_s,
        }
        return float(table[name])
