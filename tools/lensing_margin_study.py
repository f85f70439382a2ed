"""How the lensed C_l up to l_max = 2500 depend on the unlensed margin delta_l_max and on the quadrature.

Runs classy once (fid cosmology, output tCl,pCl,lCl, lensing = yes, l_max_scalars = 2500, delta_l_max =
3000: unlensed C_l to l = 5500), then ``boltzax.lensing.lensed_cl`` at every l on truncations of that input:
fast (CLASS default) and accurate methods for delta_l_max = 100 ... 3000, the accurate method with
num_mu_minus_lmax = 1000 (finer quadrature), and a few margins with C_l^phiphi alone kept to l = 5500
(pp_extra_l). The reference is the accurate method at the largest margin with the finer quadrature. Prints max relative errors for l <= 2000 and 2000 < l <= 2500 (TE relative to
sqrt(TT EE)). Needs classy; ~2-4 min on 2 cores.
Usage: ``python tools/lensing_margin_study.py [--deltas 100 200 ...]``
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))

L_MAX = 2500
BIG = 3000


def unlensed(cosmo: str = "fid") -> dict:
    from classy import Class
    from make_reference import cosmologies

    c = Class()
    c.set({**cosmologies()[cosmo], "output": "tCl,pCl,lCl", "lensing": "yes", "l_max_scalars": L_MAX,
           "delta_l_max": BIG})
    c.compute()
    raw = c.raw_cl()
    out = {k: np.asarray(raw[k]) for k in ("tt", "ee", "te", "bb", "pp")}
    c.struct_cleanup()
    return out


def errors(o: dict, ref: dict) -> str:
    parts = []
    for k in ("tt", "ee", "bb"):
        e = np.abs(o[k][2:] / ref[k][2:] - 1)
        parts.append(f"{k} {e[:1999].max():.1e} {e[1999:].max():.1e}")
    te = np.abs(o["te"][2:] - ref["te"][2:]) / np.sqrt(ref["tt"][2:] * ref["ee"][2:])
    parts.append(f"te {te[:1999].max():.1e} {te[1999:].max():.1e}")
    return " | ".join(parts)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deltas", nargs="*", type=int, default=[100, 200, 300, 500, 825, 1250, 2000, BIG])
    a = ap.parse_args(argv)
    import boltzax  # noqa: F401
    from boltzax.lensing import lensed_cl_jit
    from boltzax.precision import LensingPrecision

    cl = unlensed()

    def run(**kw):
        out = lensed_cl_jit(cl, l_max=L_MAX, precision=LensingPrecision(**kw))
        return {k: np.asarray(out[k]) for k in ("tt", "ee", "te", "bb")}

    ref = run(accurate=True, delta_l_max=BIG, num_mu_minus_lmax=1000)
    print(f"reference: accurate method, delta_l_max = {BIG}, num_mu = l_max + delta + 1000 (every l)")
    print("columns: max relative error for l <= 2000, then 2000 < l <= 2500 (TE: of sqrt(TT EE))")
    for accurate, extra in ((False, 0), (True, 0), (True, 1000)):
        label = "fast" if not accurate else ("accurate" if not extra else "accurate, num_mu + 1000")
        for d in a.deltas:
            kw = {"accurate": accurate, "delta_l_max": d}
            if extra:
                kw["num_mu_minus_lmax"] = extra
            print(f"{label:24s} delta_l_max = {d:5d}: {errors(run(**kw), ref)}", flush=True)
    # the deflection power alone to l = 5500 (CMB C_l still cut at l_max + delta_l_max)
    for accurate, d in ((False, 825), (False, 1250), (True, 1250), (True, 2000)):
        kw = {"accurate": accurate, "delta_l_max": d, "pp_extra_l": BIG - d}
        label = ("accurate" if accurate else "fast") + ", C_pp to 5500"
        print(f"{label:24s} delta_l_max = {d:5d}: {errors(run(**kw), ref)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
