"""CLASS-PT's options of ``non linear = PT`` (CLASS-PT e02293a, source/input.c): `PTOptions` and their parser,
used by `params.from_class_dict`."""

from __future__ import annotations

import dataclasses

from .errors import CosmoSevereError, NotImplementedOutputError


def _float(name: str, value) -> float:
    from .params import _float as f

    return f(name, value)


@dataclasses.dataclass(frozen=True)
class PTOptions:
    """CLASS-PT's options of ``non linear = PT`` (source/input.c of CLASS-PT e02293a), with its defaults:
    IR resummation, bias tracers and cb on, RSD off; 'AP' is read only when RSD is on and then defaults to
    on (CLASS-PT re-reads the RSD string when 'AP' is absent); 'Omfid' 0.31."""

    ir_resum: bool = True
    bias: bool = True
    rsd: bool = False
    ap: bool = False
    Omfid: float = 0.31
    cb: bool = True


_YES = ("yes", "y", "true", "1")
_NO = ("no", "n", "false", "0")


def _yes_no(p: dict, name: str, default: bool) -> bool:
    """A CLASS-PT switch ('Yes'/'No', any case; also booleans). Anything else is an error (CLASS-PT itself
    reads any string without 'N' as yes)."""
    if name not in p:
        return default
    v = p[name]
    s = str(v).strip().lower()
    if isinstance(v, bool) or s in _YES + _NO:
        return bool(v) if isinstance(v, bool) else s in _YES
    raise CosmoSevereError(f"Parameter '{name}' = '{v}': expected 'Yes' or 'No'")


def _pt_options(p: dict, active: bool) -> "PTOptions | None":
    """CLASS-PT's option names (values checked even when 'non linear' is not PT; used only with PT).
    Options boltzax does not implement raise NotImplementedOutputError for non-default values."""
    ir = _yes_no(p, "IR resummation", True)
    bias = _yes_no(p, "Bias tracers", True)
    cb = _yes_no(p, "cb", True)
    rsd = _yes_no(p, "RSD", False)
    ap = _yes_no(p, "AP", True) if rsd else False  # CLASS-PT: AP read only with RSD (absent -> on)
    if not rsd and "AP" in p:
        _yes_no(p, "AP", False)  # still validate the value
    Omfid = _float("Omfid", p.get("Omfid", 0.31))
    if not 0.0 < Omfid <= 1.0:
        raise CosmoSevereError(f"Parameter 'Omfid' = {Omfid} outside the allowed range (0, 1]")
    if _yes_no(p, "PNG", False):
        raise NotImplementedOutputError("Parameter 'PNG' = Yes: primordial non-Gaussianity pieces (48-95) "
                                        "are not implemented in boltzax")
    if _yes_no(p, "no-wiggle", False):
        raise NotImplementedOutputError("Parameter 'no-wiggle' = Yes is not implemented in boltzax")
    if "FFTLog mode" in p:
        mode = str(p["FFTLog mode"]).strip()
        # CLASS-PT: a string containing 'F' (Fast) -> 128 nodes, 'P' (Precise) -> 512, anything else -> 256
        if "F" in mode or "P" in mode:
            raise NotImplementedOutputError(f"Parameter 'FFTLog mode' = '{mode}': only the default 256-node "
                                            "FFTLog ('Normal') is implemented in boltzax")
    if "Input Pk" in p and str(p["Input Pk"]).strip():
        raise NotImplementedOutputError("Parameter 'Input Pk' (replacing the linear spectrum from a file) is "
                                        "not implemented in boltzax")
    if "alpha_rs" in p and _float("alpha_rs", p["alpha_rs"]) != 1.0:
        raise NotImplementedOutputError("Parameter 'alpha_rs' != 1 (BAO rescaling) is not implemented in boltzax")
    if "PT_k_max_h/Mpc" in p and _float("PT_k_max_h/Mpc", p["PT_k_max_h/Mpc"]) != 100.0:
        raise NotImplementedOutputError("Parameter 'PT_k_max_h/Mpc' != 100 (CLASS-PT's default) is not "
                                        "implemented in boltzax")
    if not active:
        return None
    return PTOptions(ir_resum=ir, bias=bias, rsd=rsd, ap=ap, Omfid=Omfid, cb=cb)
