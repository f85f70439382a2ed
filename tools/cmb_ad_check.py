"""Forward-mode AD (jax.jacfwd) of the unlensed CMB C_l against central finite differences, end to end
(parameters -> background/thermodynamics -> sources -> line of sight -> harmonic), at several cosmologies.

    python tools/cmb_ad_check.py [--preset fast] [--l-max 1500] fid lcdm_1 nur

One compilation of the Jacobian (the base cosmology is an argument, the parameter vector the differentiated
input); 2 x 7 forward calls for the finite differences (relative step 1e-3 of each parameter: the truncation
error, ~1e-6 of the derivative, is far below the 1e-3 target). Printed per parameter and spectrum: the
largest |AD - FD| over 2 <= l <= l_max relative to the largest |FD| over l (derivatives cross zero), and the
largest pointwise relative error where |FD| > 10 % of its maximum. The 'fast' preset is the default: the
derivative of the discrete solution is what is checked, as tests/test_fourier.py does for P(k).
"""
import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

import boltzax
from boltzax.cmb import cmb_cls
from boltzax.testing import reference_params

FIELDS = ("h", "omega_b", "omega_cdm", "A_s", "n_s", "tau_reio", "m_ncdm")
SPECTRA = ("tt", "ee", "te")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("names", nargs="+")
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--l-max", type=int, default=1500)
    ap.add_argument("--rel-step", type=float, default=1e-3)
    a = ap.parse_args()
    prec = boltzax.get_precision(a.preset)

    def f(x, base):
        p = base.replace(h=x[0], omega_b=x[1], omega_cdm=x[2], A_s=x[3], n_s=x[4], tau_reio=x[5],
                         m_ncdm=jnp.concatenate([x[6:7], jnp.ravel(base.m_ncdm)[1:]]))
        cl = cmb_cls(boltzax.pipeline._compute(p, prec), prec, a.l_max)
        return jnp.stack([cl[s][2:] for s in SPECTRA])  # (3, l_max - 1)

    f_jit, jac_jit = jax.jit(f), jax.jit(jax.jacfwd(f))
    worst = 0.0
    for name in a.names:
        base = reference_params(name)
        x0 = jnp.array([base.h, base.omega_b, base.omega_cdm, base.A_s, base.n_s, base.tau_reio,
                        jnp.ravel(base.m_ncdm)[0]])
        t = time.perf_counter()
        jac = np.asarray(jac_jit(x0, base))  # (3, n_l, 7)
        t_jac = time.perf_counter() - t
        t = time.perf_counter()
        f0 = np.asarray(f_jit(x0, base))
        t_f = time.perf_counter() - t
        print(f"{name}: jacfwd {t_jac:.1f} s (first includes compile), forward {t_f:.1f} s", flush=True)
        for i, fld in enumerate(FIELDS):
            h = a.rel_step * float(x0[i])
            e = jnp.zeros(x0.size).at[i].set(h)
            fd = (np.asarray(f_jit(x0 + e, base)) - np.asarray(f_jit(x0 - e, base))) / (2 * h)
            row = []
            for j, s in enumerate(SPECTRA):
                d, ad = fd[j], jac[j, :, i]
                scale = np.max(np.abs(d))
                glob = np.max(np.abs(ad - d)) / scale
                big = np.abs(d) > 0.1 * scale
                pt = np.max(np.abs(ad - d)[big] / np.abs(d[big]))
                worst = max(worst, glob)
                row.append(f"{s} {glob:.1e} (pointwise {pt:.1e})")
            print(f"  d/d{fld:9s}: " + ", ".join(row), flush=True)
        assert np.all(np.isfinite(f0))
    print(f"largest |AD - FD| / max|FD| over all: {worst:.2e}")


if __name__ == "__main__":
    main()
