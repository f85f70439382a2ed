"""HaloFit P_nl(k, z) of boltzax against the stored CLASS reference (`halofit` family) at every reference cosmology.

Usage: ``python tools/halofit_accuracy_report.py [--precision default] [--only NAME ...] [--no-e2e]``.

Two comparisons, over 5e-4 <= k <= 5 /Mpc, P_m and P_cb, at z = 0, 0.5, 1, 2 (the test redshifts) and
z = 3, 5 (the ``_high`` run):

* ``e2e``: `boltzax.Class` with the reference input (non_linear = halofit, P_k_max_1/Mpc = 20): boltzax's
  own background, thermodynamics, perturbations and HaloFit;
* ``stage``: CLASS's own linear P on CLASS's own k grid (stored, splined in ln k as CLASS does) through
  boltzax's HaloFit with CLASS's k range: the HaloFit stage alone.
``k_nl``: boltzax's nonlinear scale at z = 0 against CLASS's ``nonlinear_scale`` (z = 0 is a CLASS time node;
elsewhere CLASS interpolates k_nl linearly in tau between nodes).  Also prints the warm HaloFit time for
the z nodes of the Class run beside the warm linear P(k) time.  Needs no classy.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from scipy.interpolate import CubicSpline  # noqa: E402

import boltzax  # noqa: E402
from boltzax.nonlinear import halofit as hf  # noqa: E402
from boltzax.nonlinear.class_k_grid import n_points_max  # noqa: E402
from boltzax.testing import list_references, load_reference, reference_class_input, reference_params  # noqa: E402

K_LO, K_HI = 5e-4, 5.0
PREC = hf.HalofitPrecision()


def stage_errors(name, ref=None):
    """{(z, 'm'|'cb'): max |P_nl/P_CLASS - 1|} of HaloFit fed with CLASS's own linear P (see module doc)."""
    ref = load_reference(name) if ref is None else ref
    res = boltzax.compute(reference_params(name, "halofit"), "fast")  # only the background is used
    kc = ref["halofit/class_k"]
    kq, wq, _ = hf.quadrature(kc[0], kc[-1], PREC, n_points_max(20.0, PREC.k_per_decade))
    k = ref["halofit/k"]
    sel = (k >= K_LO) & (k <= K_HI)
    out = {}
    for suffix in ("", "_high"):
        for cb in (False, True):
            key = f"halofit/class_pk{'_cb' if cb else ''}_lin{suffix}"
            if key not in ref:
                continue
            for j, z in enumerate(ref[f"halofit/z{suffix}"]):
                sp = CubicSpline(np.log(kc), np.log(ref[key][j]), bc_type="natural")  # CLASS: natural, ln k
                p = np.exp(sp(np.log(np.asarray(kq))))
                p[0] = ref[key][j][0]
                k_nl, n_eff, curv, comp, it = hf.nonlinear_scale(kq, wq, jnp.asarray(p), PREC)
                om, ov, w = hf.background_at(res.background, z)
                st = hf.HalofitState(k_nl=k_nl, n_eff=n_eff, curvature=curv, omega_m=om, omega_v=ov, w=w,
                                     f_nu=0.0 if cb else hf.f_nu(res.background), h=res.params.h,
                                     computable=comp, iterations=it)
                pnl = np.asarray(hf.halofit_pk(st, jnp.asarray(k), jnp.asarray(np.exp(sp(np.log(k)))), PREC))
                refnl = ref[f"halofit/pk{'_cb' if cb else ''}{suffix}"][j]
                out[(float(z), "cb" if cb else "m")] = float(np.max(np.abs(pnl / refnl - 1)[sel]))
    return out


def e2e_errors(name, precision="default", ref=None):
    """({(z, 'm'|'cb'): max err}, {k_nl relative error at z = 0 (m, cb)}, timings) through boltzax.Class."""
    ref = load_reference(name) if ref is None else ref
    k = ref["halofit/k"]
    sel = (k >= K_LO) & (k <= K_HI)
    out, knl, times = {}, {}, {}
    for suffix in ("", "_high"):
        inp = reference_class_input(ref, "halofit" + suffix)
        c = boltzax.Class(precision=precision)
        c.set(inp)
        c.compute()
        zs = ref[f"halofit/z{suffix}"]
        for cb in (False, True):
            key = f"halofit/pk{'_cb' if cb else ''}{suffix}"
            if key not in ref:
                continue
            P = c.get_pk_all(k[sel], zs, nonlinear=True, cdmbar=cb)  # (n_z, n_k)
            for j, z in enumerate(zs):
                out[(float(z), "cb" if cb else "m")] = float(np.max(np.abs(P[j] / ref[key][j, sel] - 1)))
        if suffix == "":
            knl["m"] = float(c.nonlinear_scale(np.array([0.0]), 1)[0] / ref["halofit/k_nl"][0] - 1)
            if "halofit/k_nl_cb" in ref:
                knl["cb"] = float(c.nonlinear_scale_cb(np.array([0.0]), 1)[0] / ref["halofit/k_nl_cb"][0] - 1)
            times = halofit_timing(c)
    return out, knl, times


def halofit_timing(c, repeat=3):
    """Warm time [s] of HaloFit (P_m and P_cb states + P_nl on the solved grid) at the z nodes of the Class run,
    and of the linear P(k) solve (pipeline.linear_power) for the same run."""
    from boltzax.classy_api.nonlinear import _jitted
    from boltzax.pipeline import linear_power
    from boltzax.precision import get_precision

    res, lp, req = c._r(), c._lp(), c._request
    k_max = float(req.P_k_max)
    n_max = n_points_max(max(k_max, PREC.min_k_max), PREC.k_per_decade)
    z = np.asarray(lp.z)

    def nl():
        for cb in (False, True):
            states, power = _jitted(PREC, n_max, cb)
            st = states(res, lp, z, k_max)
            p_lin = (lp.pk_cb if cb else lp.pk_m)(lp.k, z)
            jax.block_until_ready(power(st, lp.k, p_lin))

    prec = get_precision(c._precision)
    nodes = tuple(float(x) for x in z)
    k_lin = float(lp.k[-1])

    def lin():
        jax.block_until_ready(linear_power(res, prec, nodes, k_lin).ln_T2_m)

    out = {}
    for label, f in (("halofit", nl), ("linear", lin)):
        f()
        ts = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t0)
        out[label] = min(ts)
    out["n_z"] = len(z)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--precision", default="default")
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--no-e2e", action="store_true", help="stage-alone check only (fast)")
    args = ap.parse_args()
    names = args.only or list_references()
    zs = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0)
    print("max |P_nl / P_nl,CLASS - 1| for 5e-4 <= k <= 5 /Mpc, P_m / P_cb")
    head = f"{'cosmology':12s} {'check':6s}" + "".join(f"  z={z:<14g}" for z in zs)
    print(head + ("  k_nl(z=0) m/cb       halofit/linear time" if not args.no_e2e else ""))
    for name in names:
        ref = load_reference(name)
        rows = [("stage", stage_errors(name, ref), None, None)]
        if not args.no_e2e:
            e, knl, t = e2e_errors(name, args.precision, ref)
            rows.append(("e2e", e, knl, t))
        for label, err, knl, t in rows:
            cells = "".join(f"  {err.get((z, 'm'), np.nan):.1e}/{err.get((z, 'cb'), np.nan):.1e}" for z in zs)
            extra = ""
            if knl is not None:
                extra = (f"  {knl.get('m', np.nan):+.1e}/{knl.get('cb', np.nan):+.1e}"
                         f"  {t['halofit']:.3f}/{t['linear']:.3f} s ({t['n_z']} z)")
            print(f"{name:12s} {label:6s}{cells}{extra}", flush=True)


if __name__ == "__main__":
    main()
