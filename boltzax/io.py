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
