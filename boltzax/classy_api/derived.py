"""classy's ``get_current_derived_parameters``."""

from __future__ import annotations

import numpy as np

from ..errors import CosmoSevereError


class DerivedMixin:
    def get_current_derived_parameters(self, names) -> dict:
        """classy's derived-parameter dictionary for the given names (CLASS names)."""
        if not isinstance(names, (list, tuple)):
            raise CosmoSevereError("get_current_derived_parameters expects a list of names")
        r = self._r()
        dens = self._dens()
        from ..thermo.thermodynamics import derived_parameters

        th = derived_parameters(r.thermo)
        p = r.params
        table = {
            "h": float(p.h), "H0": 100.0 * float(p.h), "age": float(r.background.age_Gyr),
            "conformal_age": float(r.background.conformal_age), "Omega_m": dens["Omega0_m"],
            "omega_m": dens["Omega0_m"] * float(p.h) ** 2, "Omega0_lambda": dens["Omega0_lambda"],
            "Omega_Lambda": dens["Omega0_lambda"], "Omega0_fld": dens["Omega0_fld"], "Neff": dens["Neff"],
            "m_ncdm_tot": float(np.sum(np.asarray(p.m_ncdm))), "A_s": float(p.A_s),
            "ln10^{10}A_s": float(np.log(1e10 * float(p.A_s))), "ln_A_s_1e10": float(np.log(1e10 * float(p.A_s))),
            "n_s": float(p.n_s), "alpha_s": float(p.alpha_s), "r": float(p.r), "n_t": float(p.n_t),
            "theta_s_100": th.get("100*theta_s", np.nan), "theta_star_100": th.get("100*theta_star", np.nan),
        }
        table.update(th)
        if p.n_ncdm:
            table["m_ncdm_in_eV"] = float(np.asarray(p.m_ncdm)[0])
        out = {}
        for n in names:
            if n not in table:
                raise CosmoSevereError(f"get_current_derived_parameters: '{n}' is not a derived parameter "
                                       f"boltzax computes (yet); known: {sorted(table)}")
            out[n] = table[n]
        return out
