"""Regenerate ``boltzax/data/class_vocabulary.json``: the input names CLASS reads and classy's public API.

Reads a CLASS source tree (default: the classy 3.4.1 sdist at /work/classy_src/classy-3.4.1.0):

* ``source/input.c``: every name passed to the ``class_read_*`` / ``parser_read_*`` readers, plus the
  shooting targets of ``input_find_root`` (``target_namestrings``: 100*theta_s, theta_s_100, Neff, ...);
* ``include/precisions.h``: every precision parameter (``class_precision_parameter``, ``class_type_parameter``:
  read under their C name; ``class_string_parameter``: read under the quoted name) with its default;
* ``python/classy.pyx``: the public methods and properties of ``class Class`` (names not starting with
  ``_``).

Usage: ``python tools/class_vocabulary.py [CLASS_DIR]``.
"""

from __future__ import annotations

import json
import os
import re
import sys

READERS = r"(?:class_read_[a-z_]+|parser_read_[a-z_]+)\((?:pfc, *|&\(pfzw->fc\), *)?"


def input_names(src: str) -> list[str]:
    text = open(os.path.join(src, "source", "input.c")).read()
    names = set()
    for m in re.finditer(READERS + r'"([^"]+)"(?: *, *"([^"]+)")?', text):
        names.update(n for n in m.groups() if n)
    targets = re.search(r"target_namestrings\[\] = \{(.*?)\};", text, re.S).group(1)
    names.update(re.findall(r'"([^"]+)"', targets))
    return sorted(names)


def precision_defaults(src: str) -> dict[str, str]:
    text = open(os.path.join(src, "include", "precisions.h")).read()
    out = {}
    for name, default in re.findall(r"^class_precision_parameter\((\w+),\w+,(.+?)\)\s*(?:/\*.*)?$", text, re.M):
        out[name] = default.strip()
    for name, default in re.findall(r"^class_type_parameter\((\w+),\w+,[^,]+,(\w+)\)", text, re.M):
        out[name] = default.strip()
    for default, name in re.findall(r'^class_string_parameter\(\w+,"([^"]*)","([^"]+)"\)', text, re.M):
        out[name] = default
    return out


def classy_api(src: str) -> list[str]:
    """Public methods and properties of classy's ``Class`` (unit constants such as Mpc_to_m are properties)."""
    text = open(os.path.join(src, "python", "classy.pyx")).read()
    body = text[text.index("cdef class Class"):]
    return sorted(set(re.findall(r"^    (?:c?p?def|property) +(?:[\w\[\]]+ +)?([A-Za-z]\w*)\s*[(:]", body, re.M)))


def main(argv: list[str]) -> None:
    src = argv[1] if len(argv) > 1 else "/work/classy_src/classy-3.4.1.0"
    version = re.search(r'_VERSION_ "([^"]+)"', open(os.path.join(src, "include", "common.h")).read()).group(1)
    methods = classy_api(src)
    data = {"class_version": version, "input_names": input_names(src),
            "precision_defaults": precision_defaults(src), "classy_methods": methods}
    out = os.path.join(os.path.dirname(__file__), "..", "boltzax", "data", "class_vocabulary.json")
    with open(out, "w") as f:
        json.dump(data, f, indent=0, sort_keys=True)
    print(f"{out}: {len(data['input_names'])} input names, {len(data['precision_defaults'])} precision "
          f"parameters, {len(methods)} classy methods (CLASS {version})")


if __name__ == "__main__":
    main(sys.argv)
