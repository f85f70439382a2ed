"""Comparison helpers for CLASS reference data (pure numpy; never imports classy).

Reference files: ``tests/reference/<name>.npz`` written by ``tools/make_reference.py`` (key layout in
``tests/reference/README.md``). Typical use::

    ref = load_reference("fid")
    params = reference_params("fid")                    # CosmoParams of the 'bg' run
    err = max_rel_err(test_on_ref_z, ref["bg/H [1/Mpc]"])
    print(error_table({"fid": {"H": err}}))
"""

from __future__ import annotations

import functools
import json
import os

import numpy as np

REFERENCE_DIR = os.environ.get(
    "BOLTZAX_REFERENCE_DIR", os.path.join(os.path.dirname(__file__), "..", "tests", "reference")
)


def list_references() -> list[str]:
    """Names of the stored reference cosmologies (sorted), [] when there are none."""
    if not os.path.isdir(REFERENCE_DIR):
        return []
    return sorted(f[:-4] for f in os.listdir(REFERENCE_DIR) if f.endswith(".npz"))


def load_reference(name: str) -> dict:
    """All arrays of one reference file as a dict (0-d arrays stay 0-d)."""
    with np.load(os.path.join(REFERENCE_DIR, f"{name}.npz")) as d:
        return {k: d[k] for k in d.files}


def reference_class_input(name_or_ref, family: str = "bg") -> dict:
    """The exact CLASS input dict of one output family ('bg', 'recfast', 'pk', 'halofit', 'tk', 'cl')."""
    ref = load_reference(name_or_ref) if isinstance(name_or_ref, str) else name_or_ref
    return json.loads(str(ref[f"meta/input_{family}"]))


def reference_params(name_or_ref, family: str = "bg", drop_output: bool = True):
    """CosmoParams of a reference run (output-only settings removed)."""
    from .params import from_class_dict

    inp = reference_class_input(name_or_ref, family)
    if drop_output:
        for k in ("output", "lensing", "l_max_scalars", "l_max_tensors", "P_k_max_1/Mpc", "z_pk", "non_linear",
                  "modes"):
            inp.pop(k, None)
    return from_class_dict(inp)[0]


def rel_err(test, ref, floor: float = 0.0) -> np.ndarray:
    """|test - ref| / max(|ref|, floor), elementwise."""
    test, ref = np.asarray(test, dtype=float), np.asarray(ref, dtype=float)
    return np.abs(test - ref) / np.maximum(np.abs(ref), floor)


def max_rel_err(test, ref, mask=None, floor: float = 0.0) -> float:
    """Maximum of `rel_err` over ``mask`` (all points when None)."""
    e = rel_err(test, ref, floor)
    return float(np.max(e if mask is None else e[np.asarray(mask)]))


def max_err_of_peak(test, ref, mask=None) -> float:
    """max |test - ref| / max |ref|: error in units of the reference's peak (visibility, transfer)."""
    test, ref = np.asarray(test, dtype=float), np.asarray(ref, dtype=float)
    if mask is not None:
        test, ref = test[np.asarray(mask)], ref[np.asarray(mask)]
    return float(np.max(np.abs(test - ref)) / np.max(np.abs(ref)))


def error_table(errors: dict[str, dict[str, float]], target: dict[str, float] | None = None) -> str:
    """A text table: rows = cosmologies, columns = quantities, entries = errors (``*`` marks > target)."""
    names = list(errors)
    cols: list[str] = []
    for row in errors.values():
        cols += [c for c in row if c not in cols]
    width = max([12] + [len(c) + 1 for c in cols])
    lines = ["cosmology".ljust(12) + "".join(c.rjust(width) for c in cols)]
    for n in names:
        cells = []
        for c in cols:
            v = errors[n].get(c, np.nan)
            flag = "*" if target and c in target and v > target[c] else " "
            cells.append(f"{v:.2e}{flag}".rjust(width))
        lines.append(n.ljust(12) + "".join(cells))
    worst = {c: np.nanmax([errors[n].get(c, np.nan) for n in names]) for c in cols}
    lines.append("max".ljust(12) + "".join(f"{worst[c]:.2e} ".rjust(width) for c in cols))
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ HMcode
HMCODE_RUN_VERSIONS = {"2016": "2016", "2020": "2020", "2020bf": "2020_baryonic_feedback", "2016c": "2016"}


def load_hmcode_reference(name: str) -> dict:
    """``tests/reference/hmcode/<name>.npz`` (tools/make_hmcode_reference.py) as a dict."""
    with np.load(os.path.join(REFERENCE_DIR, "hmcode", f"{name}.npz")) as d:
        return {k: d[k] for k in d.files}


def hmcode_reference_stage_inputs(ref: dict, run: str = "2020_tight", prefix: str = ""):
    """(HMcodeCosmo, version, HMcodePrecision kwargs) of one stored CLASS HMcode run: CLASS's background
    numbers, the run's hmcode_version / c_min / eta_0 / log10T_heat_hmcode and its hmcode_tol_sigma."""
    from .nonlinear.hmcode import HMcodeCosmo

    inp = json.loads(str(ref[f"{prefix}meta/input_{run}"]))
    cz = {k[len(prefix) + 6:]: float(v) for k, v in ref.items() if k.startswith(prefix + "cosmo/")}
    extra = {}
    if "c_min" in inp or "eta_0" in inp:  # CLASS input.c: either one fixes the other
        c_min = float(inp.get("c_min", (0.98 - float(inp.get("eta_0", 0.603))) / 0.12))
        extra.update(c_min=c_min, eta_0=float(inp.get("eta_0", 0.98 - 0.12 * c_min)))
    if "log10T_heat_hmcode" in inp:
        extra["log10T_heat"] = float(inp["log10T_heat_hmcode"])
    c = HMcodeCosmo(**cz, **extra, has_ncdm=cz["Omega0_ncdm_tot"] > 0, has_fld=cz["Omega0_fld"] != 0)
    return c, str(inp["hmcode_version"]), {"tol_sigma": float(inp.get("hmcode_tol_sigma", 1e-6))}


# --------------------------------------------------------------------------- robustness (issue 17)
#: The issue-17 parameter box (CLASS input names); sweeps draw each value in the interval widened by
#: ROBUSTNESS_WIDEN of its width on both sides.  m_ncdm [eV] per species, 1-3 species.
ROBUSTNESS_BOX = {
    "h": (0.55, 0.85), "omega_b": (0.019, 0.026), "omega_cdm": (0.08, 0.16), "ln10^{10}A_s": (2.7, 3.3),
    "n_s": (0.88, 1.04), "tau_reio": (0.02, 0.12), "N_ur": (1.0, 5.0), "w0_fld": (-1.5, -0.5),
    "wa_fld": (-1.0, 0.5), "Omega_k": (-0.1, 0.1), "r": (0.0, 0.3),
}
ROBUSTNESS_M_NCDM = (0.0, 1.0)
ROBUSTNESS_WIDEN = 0.2


@functools.lru_cache(maxsize=None)
def pk_jacobian_fn():
    """(P, dP/dx) jitted: P_m(k, z = 0) at k = 0.05, 0.3 /Mpc [Mpc^3] and its forward-mode Jacobian with
    respect to x = (omega_cdm, m_ncdm of the first species), as functions of (x, base CosmoParams), at the
    "fast" preset.  One program for every base cosmology of a structure (test_fourier: AD vs FD, and finite
    gradients at random points of the issue-17 box, with one compilation); cached per process."""
    import jax
    import jax.numpy as jnp

    from boltzax.fourier import primordial_PR, transfer_grid
    from boltzax.pipeline import _compute, perturbation_tables
    from boltzax.precision import get_precision

    fast = get_precision("fast")
    pp = fast.perturbations
    k = jnp.array([0.05, 0.3])
    z = jnp.zeros(1)

    def f(x, base):
        params = base.replace(omega_cdm=x[0], m_ncdm=jnp.ravel(base.m_ncdm).at[0].set(x[1]))
        res = _compute(params, fast)
        dm, _ = transfer_grid(k, z, perturbation_tables(res, pp), pp)
        return (2 * jnp.pi ** 2 / k ** 3 * primordial_PR(res.params, k)) * dm[:, 0] ** 2

    return (jax.jit(f), jax.jit(jax.jacfwd(f)))
