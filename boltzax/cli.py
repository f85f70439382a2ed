"""Command line: ``boltzax run [FILE.ini [FILE.pre]] [--output DIR] [--precision fast|default|high]``.

Without an .ini file it computes the default cosmology (Planck 2018 best fit, one 0.06 eV neutrino) with
``output = mPk``, prints derived parameters, sigma8 and timings, and writes CLASS-format tables (background,
thermodynamics) plus PNG figures (background, x_e, visibility, the linear P(k) at z = 0 and 1) to DIR.  With
an .ini that asks for ``tCl, pCl, lCl`` (and ``lensing = yes``) it also writes cl.dat / cl_lensed.dat as
CLASS's output module and plots TT, EE, TE and phi-phi (examples/cmb.ini).  The C_l are not in the default run
because their first call still compiles for minutes and a warm call takes ~1-2 min on 2 cores (CHANGELOG.md,
session 5).
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def _log(msg: str) -> None:
    print(f"[boltzax] {msg}", flush=True)


def _error(msg: str) -> int:
    print(f"boltzax: error: {msg}", file=sys.stderr)
    return 2


def _where(e: Exception, inputs) -> str:
    """The file, line and text of the .ini parameters that an error message names."""
    lines = getattr(inputs, "lines", {})
    hits = [f"{lines[n][0]}: {lines[n][1].strip()}" for n in lines if f"'{n}'" in str(e) or f"{n} (" in str(e)]
    return ("\n  at line " + "\n  at line ".join(hits)) if hits else ""


def _run(args) -> int:
    import warnings

    from . import io
    from .classy_api import Class
    from .errors import CosmoError
    from .params import PLANCK18

    try:
        inputs = io.read_ini(args.ini) if args.ini else dict(PLANCK18, output="mPk", z_max_pk=1.0)
        if args.pre:  # CLASS's precision file (class input.ini file.pre): its names join the input's
            pre = io.read_ini(args.pre)
            both = sorted(set(pre) & set(inputs))
            if both:
                raise io.IniError(args.pre, pre.lines[both[0]][0], pre.lines[both[0]][1],
                                  f"parameter '{both[0]}' is also set in {args.ini}")
            inputs.update(pre)
            inputs.lines.update({n: (f"{args.pre}:{ln}", t) for n, (ln, t) in pre.lines.items()})
    except CosmoError as e:
        return _error(str(e))
    root = os.path.splitext(os.path.basename(args.ini))[0] + "_" if args.ini else "boltzax_"
    _log(f"input: {args.ini or 'default cosmology (Planck 2018 + one 0.06 eV neutrino)'}")
    cosmo = Class(precision=args.precision, unread="warn")  # as the class executable: unread names warn
    cosmo.set(inputs)
    try:
        stages = "background + thermodynamics"
        outputs = str(inputs.get("output", ""))
        if "mPk" in outputs:
            stages += " + P(k)"
        if any(o in outputs for o in ("tCl", "pCl", "lCl")):
            stages += " + CMB C_l" + (" (lensed)" if str(inputs.get("lensing", "no")).lower().startswith("y") else "")
        _log(f"computing {stages} (the first call compiles: up to minutes for the C_l; cached afterwards) ...")
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cosmo.compute()
        for w in caught:
            _log(f"warning: {w.message}")
        t_first = time.perf_counter() - t0
        _log(f"first call done in {time.perf_counter() - t0:.1f} s; timing a warm call ...")
        cosmo.struct_cleanup()
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cosmo.compute()
        t_warm = time.perf_counter() - t0
    except CosmoError as e:
        where = _where(e, inputs)
        return _error(f"{e}" + (f" (in {args.ini}){where}" if args.ini and where else ""))

    names = ["h", "H0", "Omega_m", "Omega_Lambda", "Neff", "age", "conformal_age", "YHe", "z_reio",
             "tau_reio", "z_rec", "z_star", "rs_rec", "rs_star", "100*theta_s", "100*theta_star", "z_d", "rs_d"]
    derived = {}
    for n in names:
        try:
            derived[n] = cosmo.get_current_derived_parameters([n])[n]
        except CosmoError:
            pass
    print()
    print(f"{'derived parameter':<22}{'value':>16}")
    print("-" * 38)
    for k, v in derived.items():
        print(f"{k:<22}{v:>16.8g}")
    has_pk = cosmo._pk is not None
    if has_pk:
        for n in ("sigma8", "sigma8_cb", "S8"):
            print(f"{n:<22}{float(getattr(cosmo, n)):>16.8g}")
    print("-" * 38)
    print(f"{'first call (compile)':<22}{t_first:>14.3f} s")
    print(f"{'warm call':<22}{t_warm:>14.3f} s")
    print()

    # every output is produced in a scratch folder first and moved into place at the end: an error leaves
    # no half-written file behind
    import shutil
    import tempfile

    bg = cosmo.get_background()
    th = cosmo.get_thermodynamics()
    os.makedirs(args.output, exist_ok=True)
    files = ["background.dat", "thermodynamics.dat", "parameters.ini", "summary.png"]
    has_cl = cosmo._cl is not None
    lensed = has_cl and "lensed" in cosmo._cl
    files += (["cl.dat"] if has_cl else []) + (["cl_lensed.dat"] if lensed else []) + (["cl.png"] if has_cl else [])
    camb = str(inputs.get("format", "class")).strip().lower() == "camb"
    with tempfile.TemporaryDirectory(dir=args.output, prefix=".boltzax_tmp_") as tmp:
        io.write_table(os.path.join(tmp, "background.dat"), bg, io.BACKGROUND_HEADER)
        io.write_table(os.path.join(tmp, "thermodynamics.dat"), th, io.THERMO_HEADER)
        io.write_parameters(os.path.join(tmp, "parameters.ini"), derived, inputs)
        _plot(bg, th, os.path.join(tmp, "summary.png"), cosmo if has_pk else None)
        if has_cl:
            T = float(cosmo.T_cmb())
            raw = cosmo.raw_cl()
            io.write_cl(os.path.join(tmp, "cl.dat"), _with_ep(cosmo, raw, "unlensed"), "total [l(l+1)/2pi] C_l's",
                        camb, T)
            len_cl = cosmo.lensed_cl() if lensed else None
            if lensed:
                io.write_cl(os.path.join(tmp, "cl_lensed.dat"), _with_ep(cosmo, len_cl, "lensed"),
                            "total lensed [l(l+1)/2pi] C_l's", camb, T)
            _plot_cl(raw, len_cl, T, os.path.join(tmp, "cl.png"))
        for f in files:
            shutil.move(os.path.join(tmp, f), os.path.join(args.output, root + f))
    for f in files:
        _log(f"wrote {os.path.join(args.output, root + f)}")
    return 0


def _with_ep(cosmo, cl: dict, which: str) -> dict:
    """classy's raw_cl/lensed_cl lack C_l^Ephi; CLASS's cl.dat has it (pCl with lCl): add it back."""
    out = dict(cl)
    if "ee" in cl and "pp" in cl:
        out["ep"] = __import__("numpy").asarray(cosmo._cl[which]["ep"])[: len(cl["ell"])]
    return out


def _plot_cl(raw: dict, lensed, T_cmb: float, path: str) -> None:
    """TT, EE, TE: l(l+1)C_l/2pi in muK^2; phi-phi: [l(l+1)]^2 C_l/2pi; unlensed (solid) and lensed (dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    keys = [k for k in ("tt", "ee", "te", "pp") if k in raw]
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 4.2), squeeze=False)
    for ax, k in zip(axes[0], keys):
        for cl, style, lab in ((raw, "-", "unlensed"), (lensed, "--", "lensed")):
            if cl is None or k not in cl or (k == "pp" and cl is lensed):
                continue
            ell = np.arange(len(cl[k]))[2:]
            f = ell * (ell + 1.0) / (2.0 * np.pi)
            y = f * np.asarray(cl[k])[2:] * (ell * (ell + 1.0) if k == "pp" else (T_cmb * 1e6) ** 2)
            ax.plot(ell, y, style, label=lab)
        ax.set_xscale("log")
        ax.set_xlabel(r"$\ell$")
        ax.set_ylabel(r"$[\ell(\ell+1)]^2 C_\ell^{\phi\phi}/2\pi$" if k == "pp" else
                      rf"$\ell(\ell+1)C_\ell^{{{k.upper()}}}/2\pi$ [$\mu$K$^2$]")
        ax.set_title(k.upper() if k != "pp" else "lensing potential")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot(bg: dict, th: dict, path: str, cosmo=None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(1, 4 if cosmo is not None else 3, figsize=(20 if cosmo is not None else 15, 4.2))
    z = np.asarray(bg["z"])
    m = (z > 0) & (z < 1e4)
    ax[0].loglog(1 + z[m], bg["H [1/Mpc]"][m], label="H [1/Mpc]")
    ax[0].loglog(1 + z[m], bg["ang.diam.dist."][m] / 1e4, label=r"$D_A$ [$10^4$ Mpc]")
    ax[0].loglog(1 + z[m], bg["comov.snd.hrz."][m] / 1e3, label=r"$r_s$ [$10^3$ Mpc]")
    ax[0].set_xlabel("1+z")
    ax[0].legend()
    ax[0].set_title("background")
    zt = np.asarray(th["z"])
    mt = (zt > 0) & (zt < 8000)
    ax[1].semilogx(zt[mt], th["x_e"][mt])
    ax[1].set_xlabel("z")
    ax[1].set_ylabel(r"$x_e$")
    ax[1].set_title("ionisation history")
    mv = (zt > 200) & (zt < 2500)
    ax[2].plot(zt[mv], th["g [Mpc^-1]"][mv])
    ax[2].set_xlabel("z")
    ax[2].set_ylabel(r"visibility $g$ [1/Mpc]")
    ax[2].set_title("visibility function")
    if cosmo is not None:
        P, k, zs = cosmo.get_pk_and_k_and_z(nonlinear=False)
        h = float(cosmo.h)
        for z in (0.0, 1.0):
            if z <= zs.max():
                ax[3].loglog(k / h, cosmo.get_pk_all(k, z, nonlinear=False) * h**3, label=f"z = {z:g}")
        ax[3].set_xlabel("k [h/Mpc]")
        ax[3].set_ylabel(r"$P_{\rm lin}(k)$ [(Mpc/h)$^3$]")
        ax[3].set_title(f"linear matter power spectrum, sigma8 = {float(cosmo.sigma8):.4f}")
        ax[3].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="boltzax",
        description="Differentiable Einstein-Boltzmann solver in JAX with CLASS conventions.",
    )
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="compute a cosmology from a CLASS .ini file (default: Planck 2018)")
    run.add_argument("ini", nargs="?", help="CLASS-syntax input file (name = value lines)")
    run.add_argument("pre", nargs="?", help="CLASS precision file (.pre), as 'class input.ini file.pre'")
    run.add_argument("--output", "-o", default="output", help="directory for CLASS-format files and plots")
    run.add_argument("--precision", "-p", default="default", choices=["fast", "default", "high"],
                     help="precision preset")
    args = parser.parse_args(argv)
    if args.command != "run":
        parser.print_help()
        return 0
    return _run(args)


if __name__ == "__main__":
    sys.exit(main())
