"""Comparison helpers for CLASS reference data (pure numpy; never imports classy).

Reference files: ``tests/reference/<name>.npz`` written by ``tools/make_reference.py`` (key layout in
``tests/reference/README.md``). Typical use::

    ref = load_reference("fid")
    params = reference_params("fid")                    # CosmoParams of the 'bg' run
    err = max_rel_err(test_on_ref_z, ref["bg/H [1/Mpc]"])
    print(error_table({"fid": {"H": err}}))
"""

from __future__ import annotations

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
