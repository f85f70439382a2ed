"""Physical constants, in SI unless stated, with CLASS v3.4.1's values (``include/background.h``,
``include/thermodynamics.h``) so that unit conversions agree with the oracle to machine precision."""

import math

c = 2.99792458e8  # speed of light [m/s]
G = 6.67428e-11  # Newton's constant [m^3 kg^-1 s^-2]
eV = 1.602176487e-19  # 1 eV in J
k_B = 1.3806504e-23  # Boltzmann constant [J/K]
h_P = 6.62606896e-34  # Planck constant [J s]
Mpc_over_m = 3.085677581282e22  # 1 Mpc in m
Gyr_over_Mpc = 3.06601394e2  # 1 Gyr in Mpc (c*1Gyr/Mpc)
m_e = 9.10938215e-31  # electron mass [kg]
m_p = 1.672621637e-27  # proton mass [kg]
m_H = 1.673575e-27  # hydrogen atom mass [kg]
not4 = 3.9715  # m_He / m_H (RECFAST / CLASS thermodynamics.h)
sigma_T = 6.6524616e-29  # Thomson cross-section [m^2]
s_over_Mpc = 9.71561189e-15  # 1 s in Mpc (c*1s/Mpc)
eV_over_Kelvin = 8.61733034e-5  # k_B in eV/K

sigma_B = 2.0 * math.pi**5 * k_B**4 / (15.0 * h_P**3 * c**2)  # Stefan-Boltzmann [W m^-2 K^-4]

# critical density today / h^2 expressed as CLASS's "rho" unit: CLASS stores rho in units of
# 3 H^2 / (8 pi G) with H in 1/Mpc, i.e. rho_class = H^2 [1/Mpc^2].  H0 [1/Mpc] = h * H0_100.
H0_100 = 1.0e5 / c  # 100 km/s/Mpc in 1/Mpc

# Massless-neutrino-to-photon density per species: 7/8 (4/11)^(4/3)   (standard decoupling)
nu_over_gamma = 7.0 / 8.0 * (4.0 / 11.0) ** (4.0 / 3.0)


def omega_gamma(T_cmb: float):
    """Photon density parameter times h^2, omega_g = rho_g / rho_crit,100 (CLASS input.c)."""
    return 4.0 * sigma_B / c * T_cmb**4 / (3.0 * c**2 * 1.0e10 / Mpc_over_m**2 / 8.0 / math.pi / G)
