"""Shared timing helpers for the benchmarks: warm timings in-process, cold timings in fresh processes
(with an empty and with a warm JAX compilation cache), peak resident memory from ``getrusage``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time


def best_of(fn, repeat: int = 5) -> float:
    """Minimum wall time of ``fn()`` over ``repeat`` calls [s] (fn must block until its result is ready)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def run_snippet(code: str, env_extra: dict | None = None) -> dict:
    """Run ``code`` in a fresh Python process; the snippet prints one JSON dict on its last line.
    Adds ``maxrss_MB`` (peak resident memory of that process, VmHWM: unlike ru_maxrss it is not
    inherited from the parent across fork/exec) and ``process_s`` (total wall time)."""
    wrapper = (
        "import json, time\n_t0 = time.perf_counter()\n" + code +
        "\n_out['process_s'] = time.perf_counter() - _t0"
        "\n_out['maxrss_MB'] = [int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')][0] / 1024"
        "\nprint(json.dumps(_out))\n"
    )
    env = dict(os.environ, **(env_extra or {}))
    out = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def cold_runs(code: str) -> tuple[dict, dict]:
    """(empty compilation cache, warm compilation cache) results of ``code`` in fresh processes."""
    with tempfile.TemporaryDirectory() as d:
        env = {"BOLTZAX_CACHE_DIR": d}
        empty = run_snippet(code, env)
        warm = run_snippet(code, env)
    return empty, warm


def have_classy() -> bool:
    try:
        import classy  # noqa: F401
    except ImportError:
        return False
    return True


def table(rows: list[tuple[str, str, str, str]]) -> str:
    head = ("case", "boltzax", "CLASS", "ratio boltzax/CLASS")
    w = [max(len(str(r[i])) for r in rows + [head]) for i in range(4)]
    lines = ["  ".join(str(x).ljust(w[i]) for i, x in enumerate(head)), "  ".join("-" * x for x in w)]
    lines += ["  ".join(str(x).ljust(w[i]) for i, x in enumerate(r)) for r in rows]
    return "\n".join(lines)
