"""classy's background and thermodynamics accessors and scalar properties (H, distances, growth,
densities, ``get_background``, ``get_thermodynamics``)."""

from __future__ import annotations

import math

import numpy as np

from .. import constants as C
from ._base import CallableFloat, _vectorise


class BackgroundMixin:
    @_vectorise
    def Hubble(self, z):
        """H(z) [1/Mpc]."""
        return self._r().background.H_of_z(z)

    @_vectorise
    def angular_distance(self, z):
        """Angular diameter distance D_A(z) [Mpc]."""
        return self._r().background.angular_distance(z)

    @_vectorise
    def luminosity_distance(self, z):
        """Luminosity distance [Mpc]."""
        return self._r().background.luminosity_distance(z)

    @_vectorise
    def comoving_distance(self, z):
        """Comoving radial distance chi(z) [Mpc]."""
        return self._r().background.comoving_distance(z)

    @_vectorise
    def scale_independent_growth_factor(self, z):
        """Growth factor D(z), normalised to 1 today (CLASS background D)."""
        return self._r().background.growth_D(z)

    @_vectorise
    def scale_independent_growth_factor_f(self, z):
        """Growth rate f(z) = d ln D / d ln a."""
        return self._r().background.growth_f(z)

    @_vectorise
    def z_of_tau(self, tau):
        """Redshift at conformal time tau [Mpc]."""
        return self._r().background.z_of_tau(tau)

    @_vectorise
    def ionization_fraction(self, z):
        """Free-electron fraction x_e(z) (per hydrogen nucleus, CLASS convention)."""
        th = self._r().thermo
        return np.interp(z, np.asarray(th.z), np.asarray(th.x_e))

    @_vectorise
    def baryon_temperature(self, z):
        """Baryon temperature T_b(z) [K]."""
        th = self._r().thermo
        return np.interp(z, np.asarray(th.z), np.asarray(th.T_b))

    def angular_distance_from_to(self, z1: float, z2: float) -> float:
        """Angular distance of z2 seen from z1 [Mpc] (flat: (chi2-chi1)/(1+z2); curved: sinn)."""
        bg = self._r().background
        return float(bg.angular_distance_from_to(z1, z2))

    def z_of_r(self, z):
        """(r(z), dz/dr(z)) = (comoving distance [Mpc], H(z) [1/Mpc]) as classy."""
        z = np.atleast_1d(np.asarray(z, dtype=float))
        return self.comoving_distance(z), self.Hubble(z)

    def get_background(self) -> dict:
        """The background table with classy's column names (numpy arrays, z decreasing)."""
        from ..background import background_table

        return {k: np.array(v, dtype=float) for k, v in background_table(self._r().background).items()}

    def get_thermodynamics(self) -> dict:
        """The thermodynamics table with classy's column names (numpy arrays, z increasing)."""
        from ..thermo.thermodynamics import thermodynamics_table

        return {k: np.array(v, dtype=float) for k, v in thermodynamics_table(self._r().thermo).items()}

    # ----------------------------------------------------------------- scalars (CallableFloat)
    def _dens(self) -> dict:
        from ..background import derived_densities

        return derived_densities(self._r().params)

    def _derived(self, name: str) -> float:
        from ..thermo.thermodynamics import derived_parameters

        return derived_parameters(self._r().thermo)[name]

    h = property(lambda self: CallableFloat(self._r().params.h))
    H0 = property(lambda self: CallableFloat(100.0 * self._r().params.h))
    T_cmb = property(lambda self: CallableFloat(self._r().params.T_cmb))
    n_s = property(lambda self: CallableFloat(self._r().params.n_s))
    Omega_m = property(lambda self: CallableFloat(self._dens()["Omega0_m"]))
    Omega_r = property(lambda self: CallableFloat(self._dens()["Omega0_r"]))
    Omega_b = property(lambda self: CallableFloat(self._dens()["Omega0_b"]))
    omega_b = property(lambda self: CallableFloat(self._r().params.omega_b))
    Omega_cdm = property(lambda self: CallableFloat(self._dens()["Omega0_cdm"]))
    Omega_g = property(lambda self: CallableFloat(self._dens()["Omega0_g"]))
    Omega_k = property(lambda self: CallableFloat(self._r().params.Omega_k))
    Omega_Lambda = property(lambda self: CallableFloat(self._dens()["Omega0_lambda"]))
    Omega_fld = property(lambda self: CallableFloat(self._dens()["Omega0_fld"]))
    Omega_nu = property(lambda self: CallableFloat(self._dens()["Omega0_ncdm_tot"]))
    Neff = property(lambda self: CallableFloat(self._dens()["Neff"]))
    age = property(lambda self: CallableFloat(self._r().background.age_Gyr))
    tau_reio = property(lambda self: CallableFloat(self._derived("tau_reio")))
    z_reio = property(lambda self: CallableFloat(self._derived("z_reio")))
    rs_drag = property(lambda self: CallableFloat(self._derived("rs_d")))
    theta_s_100 = property(lambda self: CallableFloat(self._derived("100*theta_s")))
    theta_star_100 = property(lambda self: CallableFloat(self._derived("100*theta_star")))

    def Omega0_m(self) -> float:
        return float(self.Omega_m)

    def Omega0_k(self) -> float:
        return float(self.Omega_k)

    def Omega0_cdm(self) -> float:
        return float(self.Omega_cdm)

    # ----------------------------------------------------------------- density fractions at z (classy Om_*)
    def _fraction(self, z, species):
        d = self._r().background.rho_of_z(z)
        rho = sum(np.asarray(d[s]).sum(axis=-1) if s == "ncdm" else np.asarray(d[s]) for s in species)
        return rho / np.asarray(d["crit"])

    @_vectorise
    def Om_m(self, z):
        """Omega_m(z) = rho_m / rho_crit (CLASS index_bg_Omega_m: baryons, CDM, the non-relativistic part
        rho - 3p of ncdm)."""
        return self._fraction(z, ("m",))

    @_vectorise
    def Om_b(self, z):
        """Omega_b(z) = rho_b / rho_crit."""
        return self._fraction(z, ("b",))

    @_vectorise
    def Om_cdm(self, z):
        """Omega_cdm(z) = rho_cdm / rho_crit."""
        return self._fraction(z, ("cdm",))

    @_vectorise
    def Om_ncdm(self, z):
        """Omega_ncdm(z) = sum_i rho_ncdm,i / rho_crit (the whole ncdm density; 0 without ncdm)."""
        return self._fraction(z, ("ncdm",))

    def _equality(self) -> tuple[float, float]:
        """(a_eq, H_eq): rho_m = rho_r (CLASS background_find_equality, Omega_m / Omega_r = 1), root in ln a
        to double precision (CLASS: bisection to tol_tau_eq = 1e-6 Mpc in tau)."""
        from scipy.optimize import brentq

        bg = self._r().background

        def ratio(lna):
            d = bg.model.densities(np.exp(lna))
            return math.log(float(d["m"]) / float(d["r"]))

        lna = brentq(ratio, math.log(1e-8), 0.0, xtol=1e-14, rtol=1e-14)
        return math.exp(lna), float(bg.model.densities(math.exp(lna))["H"])

    z_eq = property(lambda self: CallableFloat(1.0 / self._equality()[0] - 1.0),
                    doc="Redshift of matter-radiation equality (rho_m = rho_r).")
    k_eq = property(lambda self: CallableFloat(math.prod(self._equality())),
                    doc="k = a H at equality [1/Mpc].")

    # ----------------------------------------------------------------- unit conversions (classy properties)
    density_factor = property(lambda self: 3 * C.c * C.c / (8 * np.pi * C.G) / (C.Mpc_over_m * C.Mpc_over_m),
                              doc="CLASS density unit (8 pi G / 3 c^2 rho, Mpc^-2) -> rho [kg/m^3].")
    Mpc_to_m = property(lambda self: C.Mpc_over_m, doc="1 Mpc in m (CLASS's value).")
    kg_to_eV = property(lambda self: C.c * C.c / C.eV, doc="1 kg in eV (natural units, CLASS's constants).")
    c = property(lambda self: C.c, doc="Speed of light [m/s].")
    kgm3_to_eVMpc3 = property(lambda self: self.kg_to_eV * self.Mpc_to_m**3, doc="kg/m^3 -> eV/Mpc^3.")
    kg_to_Msol = property(lambda self: 1 / 2.0e30, doc="kg -> solar masses (classy: 1/2e30).")
    kgm3_to_MsolMpc3 = property(lambda self: self.kg_to_Msol * self.Mpc_to_m**3, doc="kg/m^3 -> Msol/Mpc^3.")
