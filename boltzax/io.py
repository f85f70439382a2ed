"""CLASS-format input and output files.

* `read_ini`: CLASS ``.ini`` syntax (``tools/parser.c``): one ``name = value`` per line; ``#`` starts a
  comment; lines without ``=`` are ignored; a parameter given twice is an error (as CLASS).
* `write_table`: CLASS's column layout (``include/common.h``: ``class_fprintf_columntitle`` and
  ``class_fprintf_double``: width 24, 12 significant digits), so CLASS's plotting tools read our files.
"""

from __future__ import annotations

import os

import numpy as np

from .errors import CosmoSevereError

_COLUMNWIDTH = 24
_OUTPUTPRECISION = 12


class IniError(CosmoSevereError):
    """A malformed .ini file: carries the file, the line number and the offending text."""

    def __init__(self, path: str, lineno: int, text: str, why: str):
        super().__init__(f"{path}:{lineno}: {why}: {text.strip()!r}")
        self.path, self.lineno, self.text = path, lineno, text


class IniDict(dict):
    """The parameters of an .ini file, with ``lines[name] = (line number, text)`` for error messages."""

    lines: dict


def read_ini(path: str) -> IniDict:
    """Parse a CLASS .ini file into a dict of strings (CLASS names), with CLASS's rules (tools/parser.c):
    lines without '=' and lines with '#' before the '=' are comments; the value ends at '#'; an empty value
    leaves the parameter unset; quotes around the name are dropped.  A line with no name before '=', a
    parameter given twice, or a file that is not text raise `IniError` (file, line number, text)."""
    if not os.path.exists(path):
        raise CosmoSevereError(f"input file '{path}' does not exist")
    out = IniDict()
    out.lines = {}
    try:
        with open(path, encoding="utf-8") as f:
            raw_lines = f.read().splitlines()
    except UnicodeDecodeError as e:
        raise CosmoSevereError(f"{path}: not a text file ({e.reason} at byte {e.start})") from None
    for lineno, raw in enumerate(raw_lines, start=1):
        if "\x00" in raw:
            raise IniError(path, lineno, raw, "a NUL byte in the line")
        eq, hsh = raw.find("="), raw.find("#")
        if eq < 0 or (0 <= hsh < eq):
            continue
        name = raw[:eq].strip().strip("'\"").strip()
        value = raw[eq + 1:].split("#", 1)[0].strip()
        if not name:
            raise IniError(path, lineno, raw, "syntax error, no name on the left of the '=' sign")
        if not value:
            continue
        if name in out:
            first = out.lines[name][0]
            raise IniError(path, lineno, raw, f"multiple entry of parameter '{name}' (first on line {first})")
        out[name] = value
        out.lines[name] = (lineno, raw)
    return out


def _title(colnum: int, title: str) -> str:
    pad = max(0, min(_COLUMNWIDTH - _OUTPUTPRECISION - 6 - 3, _COLUMNWIDTH - len(title) - 3))
    return " " * pad + f"{colnum:2d}:" + f"{title:<{_OUTPUTPRECISION + 6}} "


def write_table(path: str, columns: dict, header_lines: list[str]) -> None:
    """Write ``columns`` (name -> 1d array, all the same length) as a CLASS-format table."""
    names = list(columns)
    data = np.column_stack([np.asarray(columns[n], dtype=float) for n in names])
    with open(path, "w") as f:
        for line in header_lines:
            f.write(f"# {line}\n")
        f.write("#" + "".join(_title(i + 1, n) for i, n in enumerate(names)) + "\n")
        fmt = f"%{_COLUMNWIDTH}.{_OUTPUTPRECISION}e "
        for row in data:
            f.write("".join(fmt % v for v in row) + "\n")


BACKGROUND_HEADER = [
    "Table of selected background quantities",
    "All densities are multiplied by (8piG/3) (below, shortcut notation (.) for this factor) ",
    "Densities are in units [Mpc^-2] while all distances are in [Mpc]. ",
]
THERMO_HEADER = [
    "Table of selected thermodynamics quantities",
    "The following notation is used in column titles:",
    "    x_e = electron ionization fraction",
    "-kappa = optical depth",
    "kappa' = Thomson scattering rate, prime denotes conformal time derivatives",
    "     g = kappa' e^-kappa = visibility function",
    "    Tb = baryon temperature",
    " c_b^2 = baryon sound speed squared",
    " tau_d = baryon drag optical depth",
]


def write_parameters(path: str, derived: dict, inputs: dict) -> None:
    """Input parameters and derived parameters, one ``name = value`` per line (CLASS parameters.ini style)."""
    with open(path, "w") as f:
        f.write("# input parameters (CLASS names)\n")
        for k, v in inputs.items():
            f.write(f"{k} = {v}\n")
        f.write("# derived parameters\n")
        for k, v in derived.items():
            f.write(f"# {k} = {v:.10g}\n")


# CLASS output.c column order of the C_l files, class format (camb format: its own order, see write_cl)
_CL_CLASS_COLUMNS = (("tt", "TT"), ("ee", "EE"), ("te", "TE"), ("bb", "BB"), ("pp", "phiphi"), ("tp", "TPhi"),
                     ("ep", "Ephi"))
_CL_CAMB_COLUMNS = (("tt", "TT"), ("ee", "EE"), ("bb", "BB"), ("te", "TE"), ("pp", "dd"), ("tp", "dT"), ("ep", "dE"))


def write_cl(path: str, cl: dict, first_line: str, camb_format: bool = False, T_cmb: float = 2.7255) -> None:
    """A CLASS C_l file (output.c output_open_cl_file, output_one_line_of_cl) for l = 2 .. l_max.

    ``cl``: raw C_l (dimensionless, indexed by l; the present keys among tt, ee, te, bb, pp, tp, ep).  Class
    format (CLASS's default): columns l(l+1)/2pi C_l, dimensionless.  CAMB format ('format = camb'): TT, EE, BB,
    TE in muK^2 (x (T_cmb 10^6)^2), dd = l(l+1) x l(l+1)/2pi C_l^phiphi, dT, dE = sqrt(l(l+1)) l(l+1)/2pi C_l x
    T_cmb 10^6.  ``first_line``: CLASS's title ("total [l(l+1)/2pi] C_l's", "total lensed [l(l+1)/2pi] C_l's")."""
    cols = [(k, t) for k, t in (_CL_CAMB_COLUMNS if camb_format else _CL_CLASS_COLUMNS) if k in cl]
    l_max = len(cl[cols[0][0]]) - 1
    ell = np.arange(2, l_max + 1, dtype=float)
    factor = ell * (ell + 1.0) / (2.0 * np.pi)
    tmu = T_cmb * 1e6
    data = []
    for k, _ in cols:
        c = np.asarray(cl[k], dtype=float)[2:]
        if camb_format:
            scale = {"pp": ell * (ell + 1.0), "tp": np.sqrt(ell * (ell + 1.0)) * tmu,
                     "ep": np.sqrt(ell * (ell + 1.0)) * tmu}.get(k, tmu**2)
            c = c * scale
        data.append(factor * c)
    with open(path, "w") as f:
        f.write(f"# {'' if camb_format else 'dimensionless '}{first_line}"
                f"{' (units: [microK]^2)' if camb_format else ''}\n")
        f.write(f"# for l=2 to {l_max}, i.e. number of multipoles equal to {l_max - 1}\n#\n")
        if not camb_format:
            f.write("# -> if you prefer output in CAMB/HealPix/LensPix units/order, set 'format' to 'camb' in input "
                    "file\n")
        f.write("# -> if you don't want to see such a header, set 'headers' to 'no' in input file\n")
        if "pp" in cl:
            f.write("# -> for CMB lensing (d), these are C_l^dd for the deflection field.\n" if camb_format else
                    "# -> for CMB lensing (phi), these are C_l^phi-phi for the lensing potential.\n")
            f.write("#    Remember the conversion factors:\n#    C_l^dd (deflection) = l(l+1) C_l^phi-phi\n"
                    "#    C_l^gg (shear/convergence) = 1/4 (l(l+1))^2 C_l^phi-phi\n")
        f.write("#\n# 1:l " + "".join(_title(i + 2, t) for i, (_, t) in enumerate(cols)) + "\n")
        fmt = f"%{_COLUMNWIDTH}.{_OUTPUTPRECISION}e "
        for i, l in enumerate(ell):
            f.write(f" {int(l):4d} " + "".join(fmt % d[i] for d in data) + "\n")
