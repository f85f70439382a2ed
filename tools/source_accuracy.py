"""CMB scalar source functions S(k, tau) of boltzax against CLASS v3.4.1's get_sources() (needs classy).

Usage:
  python tools/source_accuracy.py [--names fid lcdm_1 nur ok_pos] [--write-reference] [--n-k N]
      [--tight] [--grad]

For each reference cosmology (tools/make_reference.py `cosmologies()`), runs classy with output = tCl, pCl, lCl,
l_max_scalars = 2500 (modes = s), takes get_sources() (t0, t1, t2, p, phi_plus_psi on CLASS's own k and tau
grids), computes boltzax's `scalar_sources(res, prec, k=CLASS_k, tau=CLASS_tau)` on ``--n-k`` (64) of the
CLASS k, and reports, per source, max |S_boltzax - S_CLASS| / max |S_CLASS| over k (the peak of each source over
the compared k and all tau) and the same per k band.  ``--tight`` also runs CLASS with tighter integration
settings (same physics: tol_perturbations_integration = 1e-8, earlier starts, TCA switched off earlier) to
separate CLASS's own numerical error from boltzax's.

``--grad``: forward-mode AD (jacfwd) of the sources w.r.t. omega_cdm, omega_b, h against central finite
differences (fast preset, 3 k on CLASS's tau grid) instead of the comparison.

``--write-reference`` stores tests/reference/sources/<name>.npz: CLASS's sources at a handful of CLASS's k
(nearest to REF_K_TARGETS) on every REF_TAU_STRIDE-th row (tau_index) of CLASS's tau grid (tau_all, stored whole:
the test solves on CLASS's full grid, whose rows are the integration steps), exactly CLASS's values, no
interpolation, with the classy input as JSON (meta/input); ~50 KB per cosmology.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
OUT = os.path.join(HERE, "..", "tests", "reference", "sources")

NAMES = ("t0", "t1", "t2", "p", "phi_plus_psi")
REF_K_TARGETS = (0.003, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3)  # [1/Mpc]: nearest CLASS k are stored
REF_TAU_STRIDE = 3
TIGHT = dict(tol_perturbations_integration=1e-8, start_small_k_at_tau_c_over_tau_h=1e-4,
             start_large_k_at_tau_h_over_tau_k=0.01, tight_coupling_trigger_tau_c_over_tau_h=0.001,
             tight_coupling_trigger_tau_c_over_tau_k=0.001)


def class_input(name):
    from make_reference import cosmologies

    c = dict(cosmologies()[name])
    c.update({"output": "tCl,pCl,lCl", "l_max_scalars": 2500})
    c.pop("modes", None)
    return c


def class_sources(inp):
    from classy import Class

    m = Class()
    m.set(inp)
    t = time.time()
    m.compute()
    dt = time.time() - t
    s, k, tau = m.get_sources()
    out = {n: np.asarray(s[n]) for n in NAMES}
    m.struct_cleanup()
    return out, np.asarray(k), np.asarray(tau), dt


N_TAU_STATIC = 640  # CLASS's tau grids (596-612 rows) are padded in front to one length: one compilation


def boltzax_sources(name, k, tau, precision="default"):
    import jax

    import boltzax
    from boltzax.perturbations.sources import scalar_sources
    from boltzax.testing import reference_params

    prec = boltzax.get_precision(precision)
    res = boltzax.compute(reference_params(name), prec)
    pad = np.linspace(0.5 * tau[0], tau[0], N_TAU_STATIC - tau.size + 1)[:-1]
    t = time.time()
    s, _, _ = scalar_sources(res, prec, k=k, tau=np.concatenate([pad, tau]))
    s = jax.block_until_ready(s)
    return {n: np.asarray(v)[:, pad.size:] for n, v in s.items()}, time.time() - t


def report(name, ours, ref, k, label):
    bands = ((0.0, 3e-3), (3e-3, 0.03), (0.03, 0.1), (0.1, 0.3), (0.3, 10.0))
    print(f"{name} [{label}]  max |dS| / max |S|   all k | " + " | ".join(f"{a:g}-{b:g}" for a, b in bands))
    for n in NAMES:
        peak = np.abs(ref[n]).max()
        e = np.abs(ours[n] - ref[n]).max(axis=1) / peak
        row = [f"{e.max():.1e}"]
        for a, b in bands:
            m = (k >= a) & (k < b)
            row.append(f"{e[m].max():.1e}" if m.any() else "   -   ")
        print(f"  {n:13s} " + " | ".join(row))


def write_reference(name, inp, src, k, tau):
    os.makedirs(OUT, exist_ok=True)
    ik = np.unique([int(np.argmin(np.abs(k - kt))) for kt in REF_K_TARGETS])
    it = np.arange(0, tau.size, REF_TAU_STRIDE)
    if it[-1] != tau.size - 1:
        it = np.append(it, tau.size - 1)
    data = {"k": k[ik], "tau_all": tau, "tau_index": it, "meta/input": np.asarray(json.dumps(inp)),
            "meta/peak": np.asarray([np.abs(src[n]).max() for n in NAMES])}
    for n in NAMES:
        data[n] = src[n][np.ix_(ik, it)]
    path = os.path.join(OUT, f"{name}.npz")
    np.savez_compressed(path, **data)
    print(f"wrote {path} ({os.path.getsize(path) / 1e3:.0f} KB)")


def gradient_check(name, k, tau, precision="fast", params=("omega_cdm", "omega_b", "h")):
    """Forward-mode AD (jax.jacfwd) of the sources against central finite differences (relative step 1e-4),
    max |AD - FD| / max |FD| per source and parameter."""
    import jax
    import jax.numpy as jnp

    import boltzax
    from boltzax.perturbations.sources import scalar_sources
    from boltzax.testing import reference_params

    prec = boltzax.get_precision(precision)
    p0 = reference_params(name)
    k, tau = jnp.asarray(k), jnp.asarray(tau)
    for par in params:
        def f(x, par=par):
            res = boltzax.compute(p0.replace(**{par: x}), prec)
            return scalar_sources(res, prec, k=k, tau=tau)[0]

        x0 = jnp.asarray(float(getattr(p0, par)))
        t = time.time()
        ad = jax.block_until_ready(jax.jit(jax.jacfwd(f))(x0))
        dt = time.time() - t
        h = 1e-4 * float(x0)
        fp, fm = f(x0 + h), f(x0 - h)
        errs = {n: float(np.max(np.abs(np.asarray(ad[n]) - (np.asarray(fp[n]) - np.asarray(fm[n])) / (2 * h)))
                         / np.max(np.abs((np.asarray(fp[n]) - np.asarray(fm[n])) / (2 * h)))) for n in NAMES}
        print(f"{name} d/d{par} ({precision}, jacfwd {dt:.0f} s incl. compile): "
              + ", ".join(f"{n} {e:.1e}" for n, e in errs.items()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--names", nargs="*", default=["fid", "lcdm_1", "nur", "ok_pos"])
    ap.add_argument("--write-reference", action="store_true")
    ap.add_argument("--n-k", type=int, default=64)
    ap.add_argument("--tight", action="store_true")
    ap.add_argument("--precision", default="default")
    ap.add_argument("--grad", action="store_true", help="AD vs finite differences (fast preset, 3 k) instead")
    a = ap.parse_args()
    if a.grad:
        for name in a.names:
            _, k, tau, _ = class_sources(class_input(name))
            gradient_check(name, k[np.searchsorted(k, [0.01, 0.05, 0.2])], tau)
        return
    for name in a.names:
        inp = class_input(name)
        src, k, tau, dt = class_sources(inp)
        print(f"{name}: CLASS {k.size} k ({k[0]:.3g}..{k[-1]:.3g} /Mpc), {tau.size} tau "
              f"({tau[0]:.1f}..{tau[-1]:.1f} Mpc), {dt:.1f} s")
        if a.write_reference:
            write_reference(name, inp, src, k, tau)
        ik = np.unique(np.linspace(0, k.size - 1, a.n_k).astype(int))
        ours, dt = boltzax_sources(name, k[ik], tau, a.precision)
        print(f"  boltzax {ik.size} k x {tau.size} tau: {dt:.1f} s (first call includes compilation)")
        report(name, ours, {n: v[ik] for n, v in src.items()}, k[ik], "vs CLASS default")
        if a.tight:
            src_t, _, _, _ = class_sources({**inp, **TIGHT})
            report(name, ours, {n: v[ik] for n, v in src_t.items()}, k[ik], "vs CLASS tight")
            report(name, src, src_t, k, "CLASS default vs tight")


if __name__ == "__main__":
    main()
