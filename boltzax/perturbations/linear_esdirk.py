"""Fixed-grid ESDIRK integration of the LINEAR perturbation system y' = A(x) y, exploiting its structure.

For an ESDIRK tableau (explicit first stage, constant diagonal gamma, stiffly accurate) each implicit stage is
one linear solve, (I - h gamma A(x_i)) Y_i = y_n + h sum_{j<i} a_ij F_j, with the *exact* A at the stage time
(no Newton iteration), and F_i = (Y_i - rhs_i) / (h gamma) (avoids an extra mat-vec and keeps the stiff
components exactly on the stage equation).  Default tableau: Kvaerno 2004 (BIT 44, 489) order-5 ESDIRK,
L-stable and stiffly accurate, coefficients from diffrax.Kvaerno5.

Structure (equations.py): A = A0 + U P, with m = P y the two metric derivatives (h', eta'), A0 block-diagonal
(the core block: CDM, baryons, photons, massless neutrinos; one small block per ncdm momentum node) and U the
response of every equation to m.  The stage system is solved by the Woodbury identity: with M0 = I - hg A0,
Z = M0^-1 r, W = M0^-1 (hg U), the metric of the solution is m = (I_2 - P W)^-1 P Z and Y = Z + W m.  This
costs one dense LU of the core block and one of each (l_max_ncdm+1)-sized ncdm block instead of one dense LU of
the whole state (cubic in the number of ncdm multipoles).  Every block is obtained exactly by forward-mode
differentiation of the (linear) right-hand side.

Why a fixed grid: with an L-stable, stiffly accurate method, oscillations that a step does not resolve
(|h lambda| >> 1: acoustic and free-streaming modes deep inside the horizon, Thomson relaxation) are damped
while the slowly varying (quasi-static) part of the solution is kept to the order of the method.  Matter
perturbations depend only on that slow part once a mode is well inside the horizon, so a physics-chosen grid
(uniform in ln a, the background time scale) reaches 1e-4 on P(k) with a few hundred steps for all k, where an
error-controlled step must resolve every oscillation (thousands of steps at k = 5/Mpc).  A fixed grid also
lets modes be vmapped in lockstep with no wasted work.
"""

from __future__ import annotations

import diffrax
import jax
import jax.numpy as jnp
import numpy as np

from .equations import derivs_core, metric, ncdm_block, ncdm_qk_eps


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


class LinearSystem:
    """The perturbation right-hand side of one mode in d/d ln a form, split as described above."""

    def __init__(self, k, tab, lay, mode):
        self.k, self.tab, self.lay, self.mode = k, tab, lay, mode

    def parts(self, x):
        """Background at x and the linear maps of the split right-hand side (all divided by a'/a)."""
        bg = self.tab.at(x)
        k, lay, mode = self.k, self.lay, self.mode
        inv = 1.0 / bg["aH"]
        yc0 = jnp.zeros(lay.n_core)
        psi0 = jnp.zeros(lay.ncdm_shape)
        m0 = jnp.zeros(lay.n_metric)
        Ac = jax.jacfwd(lambda yc: derivs_core(yc, m0, k, bg, lay, mode))(yc0) * inv
        Uc = jax.jacfwd(lambda m: derivs_core(yc0, m, k, bg, lay, mode))(m0) * inv
        Pc, Pn = jax.jacfwd(lambda yc, ps: metric(yc, ps, k, bg, lay, mode), argnums=(0, 1))(yc0, psi0)
        parts = dict(bg=bg, Ac=Ac, Uc=Uc, Pc=Pc, Pn=Pn)
        if lay.n_ncdm and mode >= 3:  # ncdm fluid approximation: hierarchy frozen
            L = lay.l_max_ncdm + 1
            parts.update(B=jnp.zeros(lay.ncdm_shape + (L,)), Un=jnp.zeros(lay.ncdm_shape + (lay.n_metric,)))
        elif lay.n_ncdm:
            qke = ncdm_qk_eps(k, bg)
            dl = jnp.broadcast_to(bg["dlnf0_ncdm"], qke.shape)
            L = lay.l_max_ncdm + 1

            def blk(qk, d):
                f = lambda p, m: ncdm_block(p, m, qk, d, bg["tau"], k, bg["K"])  # noqa: E731
                return jax.jacfwd(f, argnums=(0, 1))(jnp.zeros(L), m0)

            B, Un = jax.vmap(jax.vmap(blk))(qke, dl)
            parts.update(B=B * inv, Un=Un * inv)
        return parts

    def apply(self, p, y):
        """A y."""
        lay = self.lay
        yc, psi = lay.split(y)
        m = p["Pc"] @ yc + jnp.einsum("rsql,sql->r", p["Pn"], psi)
        dyc = p["Ac"] @ yc + p["Uc"] @ m
        if not lay.n_ncdm:
            return dyc
        dpsi = jnp.einsum("sqlj,sqj->sql", p["B"], psi) + p["Un"] @ m
        return lay.join(dyc, dpsi)

    def solve(self, p, hg, r):
        """Y with (I - hg A) Y = r (Woodbury over the rank-2 metric coupling)."""
        lay = self.lay
        rc, rpsi = lay.split(r)
        Mc = jnp.eye(lay.n_core) - hg * p["Ac"]
        ZWc = jnp.linalg.solve(Mc, jnp.concatenate([rc[:, None], hg * p["Uc"]], axis=1))
        Zc, Wc = ZWc[:, 0], ZWc[:, 1:]
        PZ = p["Pc"] @ Zc
        PW = p["Pc"] @ Wc
        if lay.n_ncdm:
            L = lay.l_max_ncdm + 1
            Mn = jnp.eye(L) - hg * p["B"]
            rhs = jnp.concatenate([rpsi[..., None], hg * p["Un"]], axis=-1)
            ZWn = jnp.linalg.solve(Mn, rhs)
            Zn, Wn = ZWn[..., 0], ZWn[..., 1:]
            PZ = PZ + jnp.einsum("rsql,sql->r", p["Pn"], Zn)
            PW = PW + jnp.einsum("rsql,sqlj->rj", p["Pn"], Wn)
        m = jnp.linalg.solve(jnp.eye(PW.shape[0]) - PW, PZ)
        Yc = Zc + Wc @ m
        if not lay.n_ncdm:
            return Yc
        return lay.join(Yc, Zn + Wn @ m)


def esdirk_scan(system: LinearSystem, grid, y0, ts, tableau="Kvaerno5"):
    """Integrate y' = A(x) y over the nodes grid (n+1,), possibly with zero-length steps.

    Returns (y at grid[-1], ys (len(ts), n_y)) where ys[j] is y at the last node equal to ts[j] (zeros if no
    node equals ts[j]).
    """
    a, c, gam = _tableau(tableau)
    s = a.shape[0]
    n_y = y0.shape[0]

    def step(carry, xs):
        y, f0, outs = carry
        x0, x1 = xs
        h = x1 - x0
        F = [f0]  # first-same-as-last: the tableau is stiffly accurate, so A(x0) y_n is the last stage's F
        Y = y
        for i in range(1, s):
            r = y + h * sum(a[i, j] * F[j] for j in range(i) if a[i, j] != 0.0)
            Y = system.solve(system.parts(x0 + c[i] * h), h * gam, r)
            # F_i = A Y_i, written through the stage equation.  A zero-length step (an output time equal
            # to a grid node) gives Y = r = y; F_i then only multiplies h = 0 and is set to 0, except the
            # last one, which is carried to the next step and must be A y: recompute it there.
            F.append((Y - r) / jnp.where(h > 0, h * gam, 1.0))
        f_last = jnp.where(h > 0, F[-1], f0)
        hit = (ts == x1)[:, None]
        outs = jnp.where(hit, Y[None, :], outs)
        return (Y, f_last, outs), None

    outs0 = jnp.zeros((ts.shape[0], n_y))
    f0 = system.apply(system.parts(grid[0]), y0)
    (y1, _, outs), _ = jax.lax.scan(step, (y0, f0, outs0), (grid[:-1], grid[1:]))
    return y1, outs
