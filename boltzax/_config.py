"""JAX configuration applied on ``import boltzax``.

* 64-bit floats everywhere (``jax_enable_x64``): the pipeline needs ~1e-10 relative precision in
  intermediate quantities (conformal time, optical depth) to reach 1e-4 on outputs.
* A persistent XLA compilation cache, so a second process does not recompile the pipeline.
  Location: ``$BOLTZAX_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/boltzax/jax`` (default
  ``~/.cache/boltzax/jax``). Set ``BOLTZAX_CACHE_DIR=off`` to disable it.
"""

from __future__ import annotations

import os

import jax

jax.config.update("jax_enable_x64", True)


def cache_dir() -> str | None:
    """Directory of the persistent compilation cache, or None when disabled."""
    env = os.environ.get("BOLTZAX_CACHE_DIR")
    if env is not None:
        return None if env.lower() in ("", "off", "none", "0") else env
    base = os.environ.get("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache"))
    return os.path.join(base, "boltzax", "jax")


def _enable_cache() -> None:
    path = cache_dir()
    if path is None:
        return
    try:
        os.makedirs(path, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", path)
        # cache every compiled function: a new process then compiles none of the small eager programs either
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    except Exception:  # pragma: no cover - read-only home etc.
        pass


_enable_cache()
