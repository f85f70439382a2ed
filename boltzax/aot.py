"""Serialised programs: the first call of a new process skips Python tracing (issue 12, start-up).

JAX's persistent compilation cache (``_config``) stores XLA executables, but it is consulted only after the
Python function has been traced and lowered, which for the pipeline costs tens of seconds of CPU (the
trace of the perturbation solver and HyRec dominates, tools/startup_profile.py).  This module stores each
top-level program once as a `jax.export.Exported` (StableHLO, serialised) next to that cache; a later
process deserialises it and calls it, so the only work left is the cache lookup of the executable.

`call(name, fn, args, static)` runs ``fn(*args)`` that way when every leaf of ``args`` is concrete (an
eager call, as `boltzax.Class` makes); under ``jit``, ``grad``, ``vmap`` (tracers among the leaves) it
returns ``None`` and the caller runs its ordinary jitted function, so differentiation and batching are
untouched.  The program is the same StableHLO either way, so results are the same.

The key of a stored program hashes: its name, the repr of its static arguments (precision settings,
redshift nodes), the pytree structure of the arguments (which carries the static fields of `CosmoParams`:
fluid, closure, recombination code...), every leaf's shape and dtype, the JAX/jaxlib versions, the x64
flag, the backend, and the content of every file of the installed boltzax package, so editing the code
invalidates every stored program.  Files live in ``<cache dir>/boltzax-export`` (the cache dir is
``BOLTZAX_CACHE_DIR`` or ``~/.cache/boltzax/jax``); ``BOLTZAX_AOT=off`` (or a disabled cache) turns the
mechanism off.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import tempfile

import jax
import jax.numpy as jnp
import numpy as np

from ._config import cache_dir

_PROGRAMS: dict = {}  # key -> (jitted Exported.call, output skeleton), or None if the program cannot be exported


def enabled() -> bool:
    return cache_dir() is not None and os.environ.get("BOLTZAX_AOT", "on").lower() not in ("off", "0", "no")


def export_dir() -> str:
    """Inside the compilation cache directory (JAX's cache reads and evicts only its own ``*-cache`` files
    at the top level), so emptying or replacing that directory empties this store too."""
    return os.path.join(cache_dir(), "boltzax-export")


def _package_hash() -> str:
    """Hash of the content of every file of the boltzax package (code and data), taken once at import: the
    programs a process traces are those of the code it imported, even if the files change under it."""
    h = hashlib.sha256()
    root = os.path.dirname(os.path.abspath(__file__))
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for f in sorted(filenames):
            if f.endswith((".py", ".npz", ".json", ".dat", ".txt")):
                p = os.path.join(dirpath, f)
                h.update(os.path.relpath(p, root).encode())
                with open(p, "rb") as fh:
                    h.update(fh.read())
    return h.hexdigest()


_PACKAGE_HASH = _package_hash()


@functools.lru_cache(maxsize=1)
def _environment_hash() -> str:
    """JAX versions, x64, backend and the package hash."""
    import jaxlib

    return hashlib.sha256(f"{jax.__version__}|{jaxlib.__version__}|{jax.config.jax_enable_x64}|"
                          f"{jax.default_backend()}|{_PACKAGE_HASH}".encode()).hexdigest()


def _key(name: str, static: str, treedef, leaves) -> str:
    spec = [(tuple(np.shape(x)), str(jnp.result_type(x))) for x in leaves]
    text = f"{name}|{static}|{treedef}|{spec}|{_environment_hash()}"
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _write_atomic(path: str, blob: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, path)  # atomic: parallel test workers never read half a file
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _load(path: str):
    with open(path, "rb") as fh:
        stored = pickle.load(fh)
    return jax.jit(jax.export.deserialize(stored["exported"]).call), stored["skeleton"]


def _export(path: str, fn, treedef, leaves):
    out_tree = {}

    def flat(*lv):
        out = fn(*jax.tree_util.tree_unflatten(treedef, lv))
        out_leaves, out_tree["def"] = jax.tree_util.tree_flatten(out)
        return out_leaves

    exp = jax.export.export(jax.jit(flat))(*leaves)
    skeleton = jax.tree_util.tree_unflatten(out_tree["def"], list(range(out_tree["def"].num_leaves)))
    try:
        _write_atomic(path, pickle.dumps({"exported": exp.serialize(), "skeleton": skeleton}))
    except Exception:  # read-only cache, missing flatbuffers ...: run from memory, store nothing
        pass
    return jax.jit(exp.call), skeleton


def call(name: str, fn, args: tuple, static: str):
    """``fn(*args)`` through a stored serialised program, or ``None`` when the caller must run its own jitted
    function instead: tracers among the leaves of ``args``, the mechanism disabled, or ``fn`` not exportable.
    ``static``: a complete, deterministic repr of everything ``fn`` closes over that shapes the program."""
    if not enabled():
        return None
    leaves, treedef = jax.tree_util.tree_flatten(args)
    if any(isinstance(x, jax.core.Tracer) for x in leaves):
        return None
    leaves = [jnp.asarray(x) for x in leaves]
    key = _key(name, static, treedef, leaves)
    if key not in _PROGRAMS:
        path = os.path.join(export_dir(), f"{name}-{key}.jaxexport")
        program = None
        if os.path.exists(path):
            try:
                program = _load(path)
            except Exception:  # stale or corrupt file: export again
                program = None
        if program is None:
            try:
                program = _export(path, fn, treedef, leaves)
            except Exception:  # e.g. host callbacks cannot be exported: the caller's jit path
                program = None
        _PROGRAMS[key] = program
    program = _PROGRAMS[key]
    if program is None:
        return None
    run, skeleton = program
    out = run(*leaves)
    return jax.tree_util.tree_map(lambda i: out[i], skeleton)


# --- releasing compiled programs (issue 12, long runs) ---------------------------------------------------
# Every XLA:CPU executable maps its code into the process (~5000 memory mappings for one default-precision
# P(k) program, CHANGELOG session 4).  A process that compiles many cosmology *structures* (N_ncdm, fluid,
# recombination code: each a new program) would reach the kernel's vm.max_map_count (65530 by default) and
# abort inside the next compilation.  `release_if_crowded` is called before each `Class.compute`: above the
# threshold it drops JAX's in-memory executables (`jax.clear_caches`, which also empties the jit caches of
# user functions) and this module's loaded programs; the next call reloads its program from the persistent
# compilation cache (seconds, not a recompilation).
MAP_FRACTION = 0.5  # release when the process holds more than this fraction of vm.max_map_count mappings
_DEFAULT_MAX_MAP_COUNT = 65530  # Linux's default, used where /proc/sys/vm/max_map_count cannot be read


def map_count() -> int | None:
    """Number of memory mappings of this process (lines of /proc/self/maps), None where unavailable."""
    try:
        with open("/proc/self/maps", "rb") as fh:
            return sum(1 for _ in fh)
    except OSError:
        return None


def max_map_count() -> int:
    try:
        with open("/proc/sys/vm/max_map_count") as fh:
            return int(fh.read().strip())
    except (OSError, ValueError):
        return _DEFAULT_MAX_MAP_COUNT


_RELEASES = {"count": 0}
# executables built or loaded (jax.monitoring's backend-compile event fires for compilations and for
# persistent-cache loads alike): the only way the mappings grow, so the /proc read (~1.7 us per mapping,
# ~50 ms at 30k) is skipped on calls that follow no compilation
_COMPILES = {"seen": 0, "checked": -1}


def _count_compile(name: str, _secs: float, **_kw) -> None:
    if name == "/jax/core/compile/backend_compile_duration":
        _COMPILES["seen"] += 1


jax.monitoring.register_event_duration_secs_listener(_count_compile)


def compiled_since_last_check() -> bool:
    """Whether an executable was compiled or loaded since the previous call of this function (True on the
    first call): `Class.compute` asks before paying for `release_if_crowded`'s read of /proc/self/maps."""
    new = _COMPILES["seen"] != _COMPILES["checked"]
    _COMPILES["checked"] = _COMPILES["seen"]
    return new


def releases() -> int:
    """How many times this process released its compiled programs (diagnostics, tools/long_run.py)."""
    return _RELEASES["count"]


def release_if_crowded(fraction: float = MAP_FRACTION) -> bool:
    """Drop the in-memory compiled programs when the process maps more than ``fraction`` of
    vm.max_map_count regions; returns whether it did.  No-op where /proc is unavailable."""
    n = map_count()
    if n is None or n <= fraction * max_map_count():
        return False
    release()
    return True


def release() -> None:
    """Drop every in-memory compiled program of the process (JAX's jit caches and the loaded stored
    programs); the persistent compilation cache on disk is kept, so the next call reloads, not recompiles.
    Then hand the freed heap back to the system (glibc malloc_trim): without it the resident memory stayed
    at its high-water mark (a 1000-call run over 28 structures, tools/long_run.py: 1.0 -> 8.2 GB; six
    structures released after each call: ~1.1 GB without the trim, ~0.26 GB with it)."""
    import gc

    _PROGRAMS.clear()
    jax.clear_caches()
    gc.collect()
    _malloc_trim()
    _RELEASES["count"] += 1


def _malloc_trim() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to do
        pass
