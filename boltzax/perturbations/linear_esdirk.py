"""Fixed-grid ESDIRK integration of the LINEAR perturbation system y' = A(x) y, for a batch of modes in
lockstep, exploiting the sparsity of A.

For an ESDIRK tableau (explicit first stage, constant diagonal gamma, stiffly accurate) each implicit stage is
one linear solve, (I - h gamma A(x_i)) Y_i = y_n + h sum_{j<i} a_ij F_j, with the *exact* A at the stage time
(no Newton iteration), and F_i = (Y_i - rhs_i) / (h gamma) (avoids an extra mat-vec and keeps the stiff
components exactly on the stage equation).  Default tableau: Kvaerno 2004 (BIT 44, 489) order-5 ESDIRK,
L-stable and stiffly accurate, coefficients from diffrax.Kvaerno5.

Structure (equations.py): A = A0 + U P, with m = P y the metric functionals (h', eta'[, PPF source]), A0
block-diagonal (the core block: CDM, baryons, photons, massless neutrinos, fluids; one (l_max_ncdm+1) block
per ncdm momentum node) and U the response of every equation to m.  The stage system is solved as the
BORDERED sparse system

    [ I - hg A0   -hg U ] [Y]   [r]
    [   -P          I   ] [m] = [0]

by a sparse LU without pivoting, in a fill-reducing elimination order computed once at trace time
(minimum degree on the symmetrised pattern; the metric unknowns last, so that the final Schur complement is
the Woodbury capacitance matrix I - hg P M0^-1 U).  The sparsity pattern is found at trace time by
evaluating the Jacobians of the (linear) right-hand side with random background values (`_structure`); the
matrix entries are computed at every stage by evaluating the right-hand side on a few compressed
("coloured") seed vectors, and the LU factorisation and triangular solves are unrolled into straight-line
element-wise code over the batch of modes (trailing axis).  Compared with a dense LU of the core block this
is ~50x fewer flops, and unlike jnp.linalg.solve it never calls LAPACK: jaxlib 0.10's batched LAPACK
kernels (getrf via FFI) split the batch over XLA's intra-op thread pool and block a pool thread waiting for
it (jax::ParallelBatchMap), which deadlocks as soon as pool-size such kernels run concurrently (every mode
batch >= 4 of the previous solver; see CHANGELOG.md).

The state-independent work of a step (background at the stage times, matrix entries, LU factors) is done
for all distinct stage times of the step at once (vectorised), the stage solves then only do the
triangular solves, inside a scan over the implicit stages (one copy of the solve in the compiled program).

Differentiation: the stage solve has a custom JVP, that of a linear solve, dY = M^-1 (dr + d(hg A) Y), with
the same LU factors; d(hg A) Y is the tangent of one right-hand-side evaluation at fixed Y.  The factorisation
(and the matrix entries) are never differentiated: forward mode costs ~one extra solve and right-hand side per
stage, and compiles ~5x faster than differentiating the unrolled LU.  Reverse mode transposes that linear
tangent; each step is rematerialised (jax.checkpoint), so a gradient stores only the state at every step.

Why a fixed grid: with an L-stable, stiffly accurate method, oscillations that a step does not resolve
(|h lambda| >> 1: acoustic and free-streaming modes deep inside the horizon, Thomson relaxation) are damped
while the slowly varying (quasi-static) part of the solution is kept to the order of the method.  Matter
perturbations depend only on that slow part once a mode is well inside the horizon, so a physics-chosen grid
(uniform in ln a, the background time scale) reaches 1e-4 on P(k) with a few hundred steps for all k, where an
error-controlled step must resolve every oscillation (thousands of steps at k = 5/Mpc).  A fixed grid also
lets modes be integrated in lockstep with no wasted work.
"""

from __future__ import annotations

import dataclasses
import functools

import diffrax
import jax
import jax.extend.core as jex_core
import jax.numpy as jnp
import numpy as np

from .equations import derivs_core, derivs_lna, metric, ncdm_block, ncdm_qk_eps


def _tableau(name="Kvaerno5"):
    t = getattr(diffrax, name).tableau
    s = len(t.a_lower) + 1
    a = np.zeros((s, s))
    for i, row in enumerate(t.a_lower):
        a[i + 1, : len(row)] = row
    a[np.arange(1, s), np.arange(1, s)] = t.a_diagonal[1:]
    c = np.concatenate([[0.0], t.c])
    b = np.asarray(t.b_sol)
    assert np.allclose(a[-1], b), "stiffly accurate tableau required"
    return a, c, float(t.a_diagonal[1])


# ----------------------------------------------------------------------------- the linear maps, one mode
def _ncdm_active(lay, mode):
    return bool(lay.n_ncdm) and mode < 3  # fluid approximation (mode >= 3): hierarchy frozen


def _core_cols(yc_seeds, k, bg, lay, mode):
    """d y_core/d tau for each seed column (n_core, c) at m = 0: A_core @ seeds (times a'/a)."""
    m0 = jnp.zeros(lay.n_metric)
    return jax.vmap(lambda s: derivs_core(s, m0, k, bg, lay, mode), in_axes=1, out_axes=1)(yc_seeds)


def _core_U(k, bg, lay, mode):
    """d (d y_core/d tau) / d m, (n_core, n_metric)."""
    yc0 = jnp.zeros(lay.n_core)
    return jax.vmap(lambda e: derivs_core(yc0, e, k, bg, lay, mode), in_axes=1, out_axes=1)(
        jnp.eye(lay.n_metric))


def _ncdm_cols(seeds, ms, k, bg, lay):
    """ncdm_block of every node on seeds (L, c) with metric columns ms (n_metric, c): (n_ncdm, n_q, L, c)."""
    qke = ncdm_qk_eps(k, bg)
    dl = jnp.broadcast_to(bg["dlnf0_ncdm"], qke.shape)

    def node(qk, d):
        return jax.vmap(lambda p, m: ncdm_block(p, m, qk, d, bg["tau"], k, bg["K"]), in_axes=(1, 1),
                        out_axes=1)(seeds, ms)

    return jax.vmap(jax.vmap(node))(qke, dl)


def _metric_rows(k, bg, lay, mode):
    """Rows of the metric functionals, (n_metric, n_core) and (n_metric, n_ncdm, n_q, L)."""
    yc0 = jnp.zeros(lay.n_core)
    psi0 = jnp.zeros(lay.ncdm_shape)
    _, vjp = jax.vjp(lambda yc, ps: metric(yc, ps, k, bg, lay, mode), yc0, psi0)
    return jax.vmap(vjp)(jnp.eye(lay.n_metric))


# --------------------------------------------------------------- batching with a trailing batch axis
# jax.vmap puts the batch axis first, so a per-mode function that assembles vectors (jnp.concatenate,
# .at[].set, small reductions) is lowered to XLA operations whose innermost, contiguous axis is the small
# physical one: XLA's CPU concatenate / reduce kernels then run ~10x below memory speed.  `_trailing_vmap`
# evaluates the per-mode jaxpr with the batch as the LAST axis of every array instead (element-wise and
# structural primitives are rewritten; anything else falls back to jax.vmap with in/out axes -1), so that
# every array of the batched Jacobian evaluation is contiguous along the modes.
_ELEMENTWISE = frozenset("""
    add sub mul div neg max min pow integer_pow sqrt rsqrt cbrt exp exp2 log log1p expm1 tan tanh sin cos
    atan2 abs sign floor ceil round is_finite convert_element_type eq ne lt le gt ge and or not select_n
    copy copy_p square logistic erf nextafter rem clamp
""".split())


def _tv_eval(jaxpr, consts, args, flags, n):
    env = {}

    def read(v):
        if isinstance(v, jex_core.Literal):
            return v.val, False
        return env[v]

    for v, c in zip(jaxpr.constvars, consts):
        env[v] = (c, False)
    for v, a, f in zip(jaxpr.invars, args, flags):
        env[v] = (a, f)
    for eqn in jaxpr.eqns:
        vals, fl = zip(*(read(v) for v in eqn.invars)) if eqn.invars else ((), ())
        outs = _tv_apply(eqn, list(vals), list(fl), n)
        if not eqn.primitive.multiple_results:
            outs = [outs]
        for v, o in zip(eqn.outvars, outs):
            env[v] = o
    return [read(v) for v in jaxpr.outvars]


def _tv_apply(eqn, vals, fl, n):
    """Apply one equation; returns (value, batched) or a list of them (multiple results)."""
    prim, params = eqn.primitive, dict(eqn.params)
    name = prim.name
    if not any(fl):
        out = prim.bind(*vals, **params)
        return [(o, False) for o in out] if prim.multiple_results else (out, False)
    sub = params.get("jaxpr") if name in ("pjit", "jit", "closed_call", "core_call", "remat", "checkpoint") \
        else params.get("call_jaxpr") if name in ("custom_jvp_call", "custom_vjp_call", "custom_vjp_call_jaxpr") \
        else None
    if sub is not None:
        closed = sub if hasattr(sub, "consts") else jex_core.ClosedJaxpr(sub, ())
        return _tv_eval(closed.jaxpr, closed.consts, vals, fl, n)
    nd = max(jnp.ndim(v) for v, f in zip(vals, fl) if f)  # batched rank (trailing batch axis included)

    def full(v, f):  # an unbatched operand of a batched op: give it the trailing batch axis
        return v if f else jnp.broadcast_to(jnp.expand_dims(v, -1), jnp.shape(v) + (n,))

    if name in _ELEMENTWISE:
        shape = tuple(eqn.outvars[0].aval.shape) + (n,)
        # per-mode scalars may meet arrays (rank-0 broadcasting): batched operands get the full shape,
        # unbatched ones too unless they are scalars
        ops = [jnp.broadcast_to(v, shape) if f else (v if jnp.ndim(v) == 0 else full(v, f))
               for v, f in zip(vals, fl)]
        if name == "select_n":  # the cases must all have the full shape (the predicate may be a scalar)
            ops = ops[:1] + [jnp.broadcast_to(o, shape) for o in ops[1:]]
        return prim.bind(*ops, **params), True
    if name == "broadcast_in_dim":
        x = vals[0]
        params["shape"] = tuple(params["shape"]) + (n,)
        params["broadcast_dimensions"] = tuple(params["broadcast_dimensions"]) + (len(params["shape"]) - 1,)
        params["sharding"] = None
        return prim.bind(x, *vals[1:], **params), True
    if name == "reshape":
        params["new_sizes"] = tuple(params["new_sizes"]) + (n,)
        params["sharding"] = None
        return prim.bind(vals[0], **params), True
    if name == "squeeze":
        return prim.bind(vals[0], **params), True
    if name == "slice":
        x = vals[0]
        params["start_indices"] = tuple(params["start_indices"]) + (0,)
        params["limit_indices"] = tuple(params["limit_indices"]) + (n,)
        if params.get("strides") is not None:
            params["strides"] = tuple(params["strides"]) + (1,)
        return prim.bind(x, **params), True
    if name == "transpose":
        params["permutation"] = tuple(params["permutation"]) + (nd - 1,)
        return prim.bind(vals[0], **params), True
    if name in ("concatenate", "stack"):
        return prim.bind(*[full(v, f) for v, f in zip(vals, fl)], **params), True
    if name in ("reduce_sum", "reduce_max", "reduce_min", "reduce_prod"):
        return prim.bind(vals[0], **params), True
    # anything else: jax.vmap of this one primitive, batch axis last in and out
    fn = lambda *a: prim.bind(*a, **params)  # noqa: E731
    out = jax.vmap(fn, in_axes=[-1 if f else None for f in fl], out_axes=-1)(*vals)
    return [(o, True) for o in out] if prim.multiple_results else (out, True)


def _trailing_vmap(fn, args, batched, n):
    """fn(*args) for a batch of n, every leaf of ``args`` with batched[i] True carrying the batch on its
    last axis (others shared); the results carry it on their last axis."""
    leaves, tree = jax.tree_util.tree_flatten(args)
    bl = jax.tree_util.tree_leaves(batched)
    assert len(bl) == len(leaves)
    specs = [jax.ShapeDtypeStruct(jnp.shape(v)[:-1] if b else jnp.shape(v), jnp.result_type(v))
             for v, b in zip(leaves, bl)]
    closed, out_shape = jax.make_jaxpr(lambda *xs: fn(*jax.tree_util.tree_unflatten(tree, xs)),
                                       return_shape=True)(*specs)
    outs = _tv_eval(closed.jaxpr, closed.consts, leaves, bl, n)
    res = [v if f else jnp.broadcast_to(jnp.expand_dims(v, -1), jnp.shape(v) + (n,)) for v, f in outs]
    return jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(out_shape), res)


# ----------------------------------------------------------------------------------- static structure
def _random_bg(bg_shapes, rng, K):
    out = {}
    for name, shp in bg_shapes.items():
        if shp is None:
            out[name] = None
        elif name == "K":
            out[name] = np.asarray(K)
        else:
            out[name] = rng.uniform(0.5, 1.5, shp)
    return out


def _greedy_colouring(pattern):
    """Colours of the columns of a boolean (m, n) pattern such that no two columns of one colour share a
    row (compressed Jacobian evaluation, Curtis, Powell & Reid 1974)."""
    n = pattern.shape[1]
    colour = -np.ones(n, dtype=int)
    for j in np.argsort(-pattern.sum(0), kind="stable"):
        used = {colour[i] for i in range(n) if colour[i] >= 0 and np.any(pattern[:, i] & pattern[:, j])}
        c = 0
        while c in used:
            c += 1
        colour[j] = c
    return colour


@dataclasses.dataclass(frozen=True, eq=False)
class _Structure:
    """Trace-time (numpy) description of the bordered stage matrix of one (layout, mode) and of its LU.

    Unknowns ("rows"): the core variables, then the l_max_ncdm + 1 multipoles of ONE ncdm momentum node,
    standing for all nodes at once (vector-valued rows: every node has the same pattern, and nodes only
    couple through the metric), then the metric functionals.  An entry is vector-valued (over nodes) when
    its row or column is an ncdm row; updates between scalar rows through an ncdm pivot sum over nodes."""

    nc: int  # core variables
    L: int  # ncdm multipoles per node (0 without ncdm)
    nm: int  # metric functionals
    col_core: np.ndarray  # colour of each core column (compressed Jacobian of the core block)
    col_ncdm: np.ndarray  # colour of each multipole column of a node block
    entries: tuple  # (i, j) of every structural nonzero between active rows (diagonal included)
    in_pattern: tuple  # per entry: structurally nonzero in [[A0, U], [P, 0]] (else: a diagonal 1 of M)
    is_node: tuple  # bool per row
    active: tuple  # bool per row: rows outside the LU are decoupled with M_ii = 1 (Y_i = r_i)
    order: tuple  # elimination order of the active rows (metric last)
    lower: dict  # k -> rows i eliminated after k with L[i, k] != 0
    upper: dict  # k -> columns j eliminated after k with U[k, j] != 0
    unit: frozenset  # pivots equal to exactly 1 (empty rows of A)
    p_core: tuple  # core columns the metric functionals depend on
    p_node: tuple  # ncdm multipoles l the metric functionals depend on


_STRUCTURES: dict = {}


def _structure(lay, mode, bg_shapes):
    key = (lay, mode, tuple(sorted(bg_shapes.items())))
    if key not in _STRUCTURES:
        _STRUCTURES[key] = _build_structure(lay, mode, bg_shapes)
    return _STRUCTURES[key]


@functools.partial(jax.jit, static_argnums=(2, 3))
def _pattern_maps(bgs, ks, lay, mode):
    """Sum over the random draws (leading axis of bgs, ks) of |each linear map| of one mode's right-hand
    side: the core block A (n_core, n_core), U (n_core, n_metric), the metric rows Pc (n_metric, n_core) and
    Pn (n_metric, n_ncdm, n_q, L), the ncdm blocks B (s, q, L, L) and Un (s, q, L, n_metric).  A structural
    zero is zero in every draw."""
    nc, nm = lay.n_core, lay.n_metric
    L = lay.l_max_ncdm + 1 if lay.n_ncdm else 0

    def one(bg, k):
        out = {"A": _core_cols(jnp.eye(nc), k, bg, lay, mode), "U": _core_U(k, bg, lay, mode)}
        out["Pc"], Pn = _metric_rows(k, bg, lay, mode)
        if L:
            out["Pn"] = Pn
        if L and _ncdm_active(lay, mode):
            out["B"] = _ncdm_cols(jnp.eye(L), jnp.zeros((nm, L)), k, bg, lay)
            out["Un"] = _ncdm_cols(jnp.zeros((L, nm)), jnp.eye(nm), k, bg, lay)
        return out

    return jax.tree_util.tree_map(lambda v: jnp.sum(jnp.abs(v), axis=0), jax.vmap(one)(bgs, ks))


def _build_structure(lay, mode, bg_shapes):
    nc, nm = lay.n_core, lay.n_metric
    L = lay.l_max_ncdm + 1 if lay.n_ncdm else 0
    n = nc + L + nm
    im = nc + L  # first metric row
    pat = np.zeros((n, n), dtype=bool)
    # union over random draws (flat and curved): the pattern must not miss a coefficient that happens to
    # vanish for one set of values.  The draws are evaluated by ONE jitted program (`_pattern_maps`): run
    # eagerly, op by op, they cost hundreds of tiny XLA compilations (~100 s of the first trace).
    bgs, ks = [], []
    for seed, K in ((1, 0.0), (2, 3e-3), (3, -2e-3)):
        rng = np.random.default_rng(seed)
        bgs.append(_random_bg(bg_shapes, rng, K))
        ks.append(float(rng.uniform(0.5, 1.5)))
    bgs = jax.tree_util.tree_map(lambda *v: np.stack(v), *bgs)
    with jax.ensure_compile_time_eval():  # evaluated now, also when called while tracing an outer jit
        maps = {key: np.asarray(v) for key, v in _pattern_maps(bgs, np.asarray(ks), lay, mode).items()}
    pat[:nc, :nc] = maps["A"] != 0
    pat[:nc, im:] = maps["U"] != 0
    pat[im:, :nc] = maps["Pc"] != 0
    if L:
        pat[im:, nc:im] = np.any(maps["Pn"] != 0, axis=(1, 2))
    if L and _ncdm_active(lay, mode):
        pat[nc:im, nc:im] = np.any(maps["B"] != 0, axis=(0, 1))
        pat[nc:im, im:] = np.any(maps["Un"] != 0, axis=(0, 1))
    col_core = _greedy_colouring(pat[:nc, :nc])
    col_ncdm = _greedy_colouring(pat[nc:im, nc:im]) if L else np.zeros(0, dtype=int)
    full = pat | np.eye(n, dtype=bool)
    offd = pat & ~np.eye(n, dtype=bool)
    active = offd.any(0) | offd.any(1) | np.diag(pat)
    unit = frozenset(int(i) for i in np.nonzero(active & ~pat.any(1))[0])  # M row = e_i exactly
    entries = tuple((int(i), int(j)) for i, j in zip(*np.nonzero(full)) if active[i] and active[j])
    in_pattern = tuple(bool(pat[i, j]) for i, j in entries)  # False: a diagonal entry of M that is exactly 1
    order, lower, upper = _symbolic_lu(full, active, last=range(im, n))
    is_node = tuple(nc <= i < im for i in range(n))
    return _Structure(nc=nc, L=L, nm=nm, col_core=col_core, col_ncdm=col_ncdm, entries=entries,
                      in_pattern=in_pattern, is_node=is_node, active=tuple(bool(v) for v in active),
                      order=tuple(order), lower=lower, upper=upper, unit=unit,
                      p_core=tuple(int(j) for j in np.nonzero(pat[im:, :nc].any(0))[0]),
                      p_node=tuple(int(j) for j in np.nonzero(pat[im:, nc:im].any(0))[0]))


def _symbolic_lu(full, active, last):
    """Minimum-degree elimination order of the active unknowns (the ``last`` ones at the end) on the
    symmetrised pattern, and the L / U patterns (with fill) of the LU without pivoting in that order."""
    n = full.shape[0]
    last = [int(i) for i in last if active[i]]
    g = full | full.T
    adj = {i: set(int(j) for j in np.nonzero(g[i])[0] if j != i and active[j]) for i in range(n) if active[i]}
    remaining = set(adj) - set(last)
    order = []
    while remaining:
        i = min(remaining, key=lambda v: (len(adj[v]), v))
        nb = adj[i]
        for a_ in nb:
            adj[a_] |= nb - {a_}
            adj[a_].discard(i)
        remaining.discard(i)
        order.append(i)
    order += last
    pos = {v: p for p, v in enumerate(order)}
    F = full.copy()
    lower, upper = {}, {}
    for kk in order:
        rows = [int(i) for i in np.nonzero(F[:, kk])[0] if i in pos and pos[i] > pos[kk]]
        cols = [int(j) for j in np.nonzero(F[kk, :])[0] if j in pos and pos[j] > pos[kk]]
        for i in rows:
            F[i, cols] = True
        lower[kk] = tuple(sorted(rows, key=pos.get))
        upper[kk] = tuple(sorted(cols, key=pos.get))
    return order, lower, upper


# ------------------------------------------------------------------------------------ numerical parts
def _raw(st: _Structure, k, bg, lay, mode):
    """The linear maps of the right-hand side (d/d ln a) of one mode at one time, compressed: A_core on the
    column colours, U, the metric functionals on their support columns, the ncdm blocks on their colours."""
    nc, L, nm = st.nc, st.L, st.nm
    inv = 1.0 / bg["aH"]
    out = {}
    seeds = jnp.asarray(np.eye(int(st.col_core.max()) + 1)[st.col_core])  # (n_core, n_colours)
    out["A"] = _core_cols(seeds, k, bg, lay, mode) * inv  # (n_core, n_colours)
    out["U"] = _core_U(k, bg, lay, mode) * inv  # (n_core, n_metric)
    psi0 = jnp.zeros(lay.ncdm_shape)
    met = lambda yc, ps: metric(yc, ps, k, bg, lay, mode)  # noqa: E731
    if st.p_core:
        e = jnp.asarray(np.eye(nc)[list(st.p_core)])
        out["Pc"] = jax.vmap(lambda v: met(v, psi0))(e)  # (n_support, n_metric)
    if L and st.p_node:
        n_nodes = lay.n_ncdm * lay.n_q
        e = np.zeros((n_nodes, len(st.p_node)) + lay.ncdm_shape)
        for b in range(n_nodes):
            for q, l in enumerate(st.p_node):
                e[(b, q) + np.unravel_index(b, lay.ncdm_shape[:2]) + (l,)] = 1.0
        yc0 = jnp.zeros(nc)
        out["Pn"] = jax.vmap(jax.vmap(lambda v: met(yc0, v)))(jnp.asarray(e))  # (n_nodes, n_support, nm)
    if L and _ncdm_active(lay, mode):
        sn = jnp.asarray(np.eye(int(st.col_ncdm.max()) + 1)[st.col_ncdm])  # (L, n_colours)
        out["B"] = _ncdm_cols(sn, jnp.zeros((nm, sn.shape[1])), k, bg, lay).reshape(-1, L, sn.shape[1]) * inv
        out["Un"] = _ncdm_cols(jnp.zeros((L, nm)), jnp.eye(nm), k, bg, lay).reshape(-1, L, nm) * inv
    return out


def _values(st: _Structure, raw, hg):
    """Entries of the bordered stage matrix [[I - hg A0, -hg U], [-P, I]] aligned with st.entries, from
    the batched `_raw` maps (batch axes trailing: (..., n_t, B)); scalar entries get a node axis of 1."""
    nc, L = st.nc, st.L
    im = nc + L
    one = jnp.ones((1, 1) + hg.shape, hg.dtype)
    pc = {j: q for q, j in enumerate(st.p_core)}
    pn = {j: q for q, j in enumerate(st.p_node)}
    out = []
    for (i, j), nz in zip(st.entries, st.in_pattern):
        if not nz:
            out.append(one)
            continue
        if i < nc and j < nc:
            v = -hg * raw["A"][i, st.col_core[j]][None]
        elif i < nc:  # core row, metric column (no direct core-ncdm coupling: nodes couple via the metric)
            v = -hg * raw["U"][i, j - im][None]
        elif i < im and j < im:
            v = -hg * raw["B"][:, i - nc, st.col_ncdm[j - nc]]
        elif i < im:
            v = -hg * raw["Un"][:, i - nc, j - im]
        elif j < nc:
            v = -raw["Pc"][pc[j], i - im][None]
        elif j < im:
            v = -raw["Pn"][:, pn[j - nc], i - im]
        else:
            v = jnp.zeros_like(one)
        out.append(one + v if i == j else v)
    return out


def _reduce(st, x, k, *ij):
    """Sum over nodes (axis 0) of an update through pivot k when none of the rows/columns ij is an ncdm
    row."""
    if st.is_node[k] and not any(st.is_node[v] for v in ij):
        return jnp.sum(x, axis=0, keepdims=True)
    return x


def _keep(x, one):
    """x, materialised: XLA's CPU fusion duplicates cheap element-wise producers into every consumer, which
    makes the work of an unrolled triangular recursion quadratic in its length; a division (an "expensive"
    op that is never duplicated) by a runtime 1.0 stops that at no cost in accuracy."""
    return x / one


def _factor(st: _Structure, vals, one):
    """Unrolled LU without pivoting of the entries vals (list aligned with st.entries, leading axis: 1 or
    nodes).  Returns the entries of L (below the diagonal) and U (diagonal and above) in one dict."""
    a = dict(zip(st.entries, vals))
    for kk in st.order:
        # row kk of U and the pivot are final here
        for j in st.upper[kk]:
            a[(kk, j)] = _keep(a[(kk, j)], one)
        if kk not in st.unit:
            a[(kk, kk)] = _keep(a[(kk, kk)], one)
        for i in st.lower[kk]:
            lik = a[(i, kk)] if kk in st.unit else a[(i, kk)] / a[(kk, kk)]
            a[(i, kk)] = lik
            for j in st.upper[kk]:
                upd = _reduce(st, lik * a[(kk, j)], kk, i, j)
                a[(i, j)] = a[(i, j)] - upd if (i, j) in a else -upd
    return a


def _solve(st: _Structure, a, z, one):
    """Solve with the factors of `_factor`; z: list of rows (leading axis 1 or nodes)."""
    z = list(z)
    for kk in st.order:
        if st.lower[kk]:
            zk = _keep(z[kk], one)
            for i in st.lower[kk]:
                z[i] = z[i] - _reduce(st, a[(i, kk)] * zk, kk, i)
    for kk in reversed(st.order):
        acc = z[kk]
        for j in st.upper[kk]:
            acc = acc - _reduce(st, a[(kk, j)] * z[j], j, kk)
        z[kk] = acc if kk in st.unit else acc / a[(kk, kk)]
    return z


def _rows(st, y):
    """State (n_y, B) -> rows of the bordered system: (1, B) core and metric (0) rows, (nodes, B) ncdm."""
    rows = [y[i:i + 1] for i in range(st.nc)]
    if st.L:
        psi = y[st.nc:].reshape(-1, st.L, y.shape[-1])
        rows += [psi[:, li] for li in range(st.L)]
    return rows + [jnp.zeros_like(y[:1])] * st.nm


def _unrows(st, z):
    y = jnp.concatenate(z[:st.nc])
    if st.L:
        psi = jnp.stack(z[st.nc:st.nc + st.L], axis=1)  # (nodes, L, B)
        y = jnp.concatenate([y, psi.reshape(-1, psi.shape[-1])])
    return y


# ------------------------------------------------------------------------------------------- the scan
def esdirk_scan(k, tab, lay, mode, grid, y0, ts, tableau="Kvaerno5", skip_empty=True):
    """Integrate y' = A(x) y (equation mode ``mode``) for a batch of modes in lockstep.

    k (B,) [1/Mpc]; grid (B, n+1): nodes in ln a (increasing per mode, zero-length steps allowed);
    y0 (B, n_y); ts (B, n_ts).  Returns (y at grid[:, -1] (B, n_y), ys (B, n_ts, n_y)) where ys[b, j] is y
    at the last node equal to ts[b, j] (zeros if no node equals it).  Internally the batch axis is the
    last (contiguous) one.  ``skip_empty``: a step of zero length for every mode is skipped (lax.cond).
    """
    a, c, gam = _tableau(tableau)
    s = a.shape[0]
    bg_shapes = {kk: (None if v is None else tuple(np.shape(v))) for kk, v in tab.at(jnp.zeros(())).items()}
    st = _structure(lay, mode, bg_shapes)
    cs = sorted(set(float(v) for v in c[1:]))  # distinct implicit stage times (Kvaerno5: c_5 = c_6 = 1)
    cs_arr = jnp.asarray(cs)[:, None]
    stage_t = [0] + [cs.index(float(v)) for v in c[1:]]
    stage_idx = np.asarray(stage_t[1:])
    c_impl = jnp.asarray(c[1:])
    a_low = jnp.asarray(np.tril(a, -1)[1:])  # (s-1, s): the explicit part of every implicit stage

    def raw_batch(x, k, tab):  # (n_t, B) stage times -> maps with trailing (n_t, B) axes
        nt, nb = x.shape
        kk = jnp.broadcast_to(k, x.shape).reshape(-1)
        raw = _trailing_vmap(lambda kk, xx: _raw(st, kk, tab.at(xx), lay, mode), (kk, x.reshape(-1)),
                             (True, True), nt * nb)
        return {key: v.reshape(v.shape[:-1] + (nt, nb)) for key, v in raw.items()}

    def rhs_one(kk, xx, yy, tb):  # A(x) y of one mode (d/d ln a): the maps that _raw linearises
        return derivs_lna(xx, yy, kk, tb, lay, mode)

    def rhs_batch(k, x, y, tab):  # A(x) y for the batch, (n_y, B)
        flags = (True, True, True, jax.tree_util.tree_map(lambda _: False, tab))
        return _trailing_vmap(rhs_one, (k, x, y, tab), flags, k.shape[0])

    @jax.custom_jvp
    def stage_solve(fac, one, r, hg, k, x, tab):
        """Y with (I - hg A(x)) Y = r, from the LU factors fac of the bordered matrix at x."""
        return _unrows(st, _solve(st, fac, _rows(st, r), one))

    @stage_solve.defjvp
    def _stage_solve_jvp(primals, tangents):
        # differentiated as a linear solve: dY = M^-1 (dr + d(hg A) Y), the factors reused; d(hg A) Y is
        # the tangent of hg A(x; k, tab) Y at fixed Y (one right-hand-side evaluation, not the tangents of
        # every matrix entry).  The factorisation itself is never differentiated.
        fac, one, r, hg, k, x, tab = primals
        _, _, dr, dhg, dk, dx, dtab = tangents
        Y = stage_solve(fac, one, r, hg, k, x, tab)
        _, dAY = jax.jvp(lambda hg_, k_, x_, tab_: hg_ * rhs_batch(k_, x_, Y, tab_), (hg, k, x, tab),
                         (dhg, dk, dx, dtab))
        dY = _unrows(st, _solve(st, fac, _rows(st, dr + dAY), one))
        return Y, dY

    def step(carry, xs):
        y, f0, outs = carry  # (n_y, B), (n_y, B), (n_ts, n_y, B)
        x0, x1 = xs  # (B,)
        h = x1 - x0
        hg = h * gam
        one = 1.0 + 0.0 * jax.lax.stop_gradient(h)  # a runtime 1 (see _keep), with no tangent
        # state-independent part, for all distinct stage times at once: matrix entries and LU factors
        xs_t = x0 + cs_arr * h  # (n_t, B)
        sg = jax.lax.stop_gradient
        raw = raw_batch(sg(xs_t), sg(k), sg(tab))
        fac = _factor(st, _values(st, raw, sg(hg)), one)  # entries (1 or nodes, n_t, B)
        hs = jnp.where(h > 0, hg, 1.0)
        # the implicit stages as a scan (one copy of the solve in the program): r_i = y_n + h sum_{j<i}
        # a_ij F_j; Y_i = M_i^-1 r_i; F_i = A Y_i written through the stage equation.  A zero-length step
        # (an output time equal to a grid node) gives Y = r = y; F_i then only multiplies h = 0 and is set
        # to 0, except the last one, carried to the next step, which must be A y: f0 is kept there.
        fac_s = {key: jnp.moveaxis(v[:, stage_idx], 1, 0) for key, v in fac.items()}  # (s-1, 1|nodes, B)
        xs_s = x0 + c_impl[:, None] * h  # (s-1, B)

        def stage(carry, inp):
            Fb, _ = carry
            i, arow, fac_i, x_i = inp
            r = y + h * jnp.tensordot(arow, Fb, axes=1)
            Y = stage_solve(fac_i, one, r, hg, k, x_i, tab)
            return (Fb.at[i].set((Y - r) / hs), Y), None

        Fb0 = jnp.zeros((s,) + y.shape, y.dtype).at[0].set(f0)
        (Fb, Y), _ = jax.lax.scan(stage, (Fb0, y), (jnp.arange(1, s), a_low, fac_s, xs_s))
        f_last = jnp.where(h > 0, Fb[-1], f0)  # stiffly accurate: y_{n+1} = Y_s
        outs = jnp.where((ts.T == x1)[:, None, :], Y[None], outs)
        return (Y, f_last, outs), None

    def step_or_skip(carry, xs):
        # a step of zero length for every mode of the batch (output times merged into a phase grid outside
        # that phase; unused sub-steps) costs nothing: only its output assignment is kept
        def skip(carry, xs):
            y, f0, outs = carry
            return (y, f0, jnp.where((ts.T == xs[1])[:, None, :], y[None], outs)), None

        return jax.lax.cond(jnp.any(xs[1] > xs[0]), step, skip, carry, xs)

    yT = y0.T
    f0 = rhs_batch(k, grid[:, 0], yT, tab)
    outs0 = jnp.zeros((ts.shape[1],) + yT.shape, yT.dtype)
    gT = grid.T
    # reverse mode: each step is recomputed in the backward pass (jax.checkpoint), so the memory of a
    # gradient is the carry of every step (O(n_steps n_y n_k)), not every stage's matrix factors
    body = step_or_skip if skip_empty else step
    (y1, _, outs), _ = jax.lax.scan(jax.checkpoint(body, prevent_cse=False), (yT, f0, outs0), (gT[:-1], gT[1:]))
    return y1.T, jnp.moveaxis(outs, -1, 0)
