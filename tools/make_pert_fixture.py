"""Write tests/data_perturbations/*.npz: CLASS v3.4.1 (classy) background/thermodynamics tables on a uniform
ln a grid plus CLASS's linear P(k, z) and sigma8, so that the perturbation module can be tested in
isolation (tests never import classy).  Run: python tools/make_pert_fixture.py
"""
import numpy as np
from classy import Class
from scipy.interpolate import CubicSpline

COSMOS = {
    "lcdm": {"N_ncdm": 0, "N_ur": 3.044},
    "high": {"N_ncdm": 0, "N_ur": 3.044, "h": 0.75, "omega_cdm": 0.14, "omega_b": 0.025, "n_s": 0.93},
    "low": {"N_ncdm": 0, "N_ur": 3.044, "h": 0.62, "omega_cdm": 0.10, "omega_b": 0.020, "n_s": 1.0},
}
K_TEST = np.array([5e-4, 3e-3, 0.02, 0.06, 0.15, 0.4, 1.0, 2.5, 5.0])
Z_TEST = np.array([0.0, 0.5, 1.0, 2.0])


def tables(c, n=3000, lna_min=np.log(1e-10), lna_max=0.02):
    b = c.get_background()
    th = c.get_thermodynamics()
    lnab, idx = np.unique(-np.log1p(b["z"][::-1]), return_index=True)
    lna = np.linspace(lna_min, lna_max, n)
    a = np.exp(lna)

    def bsp(col):
        return np.exp(CubicSpline(lnab, np.log(b[col][::-1][idx]))(lna))

    out = dict(lna=lna, tau=bsp("conf. time [Mpc]"), aH=a * bsp("H [1/Mpc]"))
    for s in ("g", "b", "cdm", "ur", "lambda"):
        out["a2rho_" + s] = a**2 * bsp("(.)rho_" + s)
    lnat, it = np.unique(-np.log1p(th["z"])[::-1], return_index=True)
    dk = th["kappa' [Mpc^-1]"][::-1][it]
    cb2 = th["c_b^2"][::-1][it]
    lo = lnat[0]
    # before CLASS's first thermo point (z = 5e6) hydrogen and helium are fully ionised: kappa' ~ a^-2,
    # and T_b = T_gamma gives c_b^2 ~ 1/a
    out["dkappa"] = np.exp(np.where(lna >= lo, CubicSpline(lnat, np.log(dk))(np.clip(lna, lo, None)),
                                    np.log(dk[0]) - 2 * (lna - lo)))
    out["cb2"] = np.where(lna >= lo, CubicSpline(lnat, cb2)(np.clip(lna, lo, None)), cb2[0] * np.exp(-(lna - lo)))
    return out


def main():
    for name, pars in COSMOS.items():
        c = Class()
        c.set(dict(pars, output="mPk", **{"P_k_max_1/Mpc": 6.0, "z_pk": "0,0.5,1,2"}))
        c.compute()
        d = tables(c)
        der = c.get_current_derived_parameters(["A_s", "n_s"])
        d.update(A_s=der["A_s"], n_s=der["n_s"], h=c.h(), rs_drag=c.rs_drag(), sigma8=c.sigma8(),
                 k_test=K_TEST, z_test=Z_TEST,
                 pk_m=np.array([[c.pk_lin(k, z) for z in Z_TEST] for k in K_TEST]),
                 )
        np.savez_compressed(f"tests/data_perturbations/{name}.npz", **d)
        print(name, c.sigma8())


if __name__ == "__main__":
    main()
