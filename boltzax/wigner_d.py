"""Wigner d^l_{m1 m2}(beta) on a fixed grid of mu = cos(beta), by CLASS's three-term recurrence in l.

CLASS ``lensing.c: lensing_dm1m2`` (Kostelec & Rockmore 2003) recurs on D_l = sqrt((2l+1)/2) d^l_{m1 m2},
starting at l = m1 (m1 >= |m2|, m1 - m2 even) from

    d^{m1}_{m1 m2}(beta) = sqrt((2 m1)! / ((m1 + m2)! (m1 - m2)!)) ((1 + mu)/2)^((m1+m2)/2) ((1 - mu)/2)^((m1-m2)/2),

    D_{l+1} = f1_l (mu + f2_l) D_l - f3_l D_{l-1},
    f1_l = (l + 1) sqrt((2l+3)(2l+1) / (((l+1)^2 - m1^2)((l+1)^2 - m2^2))),   f2_l = -m1 m2 / (l (l+1)),
    f3_l = (l+1)/l sqrt((2l+3)/(2l-1) (l^2 - m1^2)(l^2 - m2^2) / (((l+1)^2 - m1^2)((l+1)^2 - m2^2))),

and d^l = D_l sqrt(2 / (2l+1)); d^l = 0 for l < m1. All functions of a set run in one ``lax.scan`` over
l = 0 .. l_max with the (n_functions, n_mu) values in the carry; the coefficients and the seeds depend only
on (m1, m2, l, mu) and are built in numpy (static). The same operation order as CLASS is kept, so the
values agree with CLASS's to round-off.
"""

from __future__ import annotations

import math
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np


def d_name(m1: int, m2: int) -> str:
    """CLASS's array name: d00, d11, d1m1, d2m2, d3m1, ... ('m' for a minus sign)."""
    return f"d{m1}{m2}" if m2 >= 0 else f"d{m1}m{-m2}"


def recurrence_coefficients(pairs: tuple, l_max: int) -> tuple[np.ndarray, ...]:
    """f1, f2, f3 (l_max + 1, n) of the step l -> l + 1, zero while l + 1 <= m1 (so that the recurrence
    yields 0 below l = m1 and exactly the seed at l = m1), and seed_at (l_max + 1, n): 1 where l + 1 = m1."""
    n = len(pairs)
    f1 = np.zeros((l_max + 1, n))
    f2 = np.zeros((l_max + 1, n))
    f3 = np.zeros((l_max + 1, n))
    seed_at = np.zeros((l_max + 1, n))
    for j, (m1, m2) in enumerate(pairs):
        if m1 < 0 or abs(m2) > m1 or (m1 - m2) % 2:
            raise ValueError(f"need m1 >= |m2| and m1 - m2 even, got ({m1}, {m2})")
        if 0 < m1 <= l_max + 1:
            seed_at[m1 - 1, j] = 1.0
        for l in range(max(1, m1), l_max + 1):
            ll = float(l)
            f1[l, j] = math.sqrt((2 * ll + 3) * (2 * ll + 1)
                                 / ((ll + 1 + m1) * (ll + 1 - m1) * (ll + 1 + m2) * (ll + 1 - m2))) * (ll + 1)
            f2[l, j] = -m1 * m2 / (ll * (ll + 1))
            f3[l, j] = math.sqrt((2 * ll + 3) / (2 * ll - 1) * (ll + m1) * (ll - m1) * (ll + m2) * (ll - m2)
                                 / ((ll + 1 + m1) * (ll + 1 - m1) * (ll + 1 + m2) * (ll + 1 - m2))) * (ll + 1) / ll
        if m1 == 0:  # CLASS's l = 0 step of d00 (its general formula has 0/0 there)
            f1[0, j] = math.sqrt(3.0)
    return f1, f2, f3, seed_at


def seeds(pairs: tuple, mu: np.ndarray) -> np.ndarray:
    """D_{m1} = sqrt((2 m1 + 1)/2) d^{m1}_{m1 m2}(mu), shape (n, n_mu), in CLASS's operation order."""
    mu = np.asarray(mu, dtype=np.float64)
    out = np.empty((len(pairs), len(mu)))
    for j, (m1, m2) in enumerate(pairs):
        if -m2 == m1:
            pref = 1.0
        else:
            arg = 1.0
            for i in range(1, m1 + m2 + 1):
                arg /= i
            for i in range(1, m1 - m2 + 1):
                arg /= i
            for i in range(1, 2 * m1 + 1):
                arg *= i
            pref = math.sqrt(arg)
        dl = np.full(len(mu), math.sqrt((2.0 * m1 + 1) / 2.0) * pref)
        for _ in range((m1 + m2) // 2):
            dl = dl * ((1.0 + mu) / 2.0)
        for _ in range((m1 - m2) // 2):
            dl = dl * ((1.0 - mu) / 2.0)
        out[j] = dl
    return out


def scan_wigner_d(mu: np.ndarray, pairs: tuple, l_max: int, body: Callable, acc0, xs, unroll: int = 1):
    """Run the recurrence for l = 0 .. l_max and fold ``body`` over it.

    ``body(acc, d, x_l) -> (acc, y_l)`` gets d = {d_name: (n_mu,) d^l_{m1 m2}(mu)} at one l and the l-th
    slice of the pytree ``xs`` (leading axis l_max + 1). Returns (acc, stacked y)."""
    f1, f2, f3, seed_at = recurrence_coefficients(pairs, l_max)
    seed = seeds(pairs, mu)
    mu_c = jnp.asarray(np.asarray(mu, dtype=np.float64))
    norm = np.sqrt(2.0 / (2.0 * np.arange(l_max + 1) + 1.0))  # d_l = D_l sqrt(2 / (2l + 1))
    first = np.array([seed[j] if m1 == 0 else np.zeros(len(mu)) for j, (m1, _) in enumerate(pairs)])
    names = [d_name(*p) for p in pairs]
    seed_c = jnp.asarray(seed)

    def step(carry, inp):
        d_l, d_lm1, acc = carry
        (c1, c2, c3, s, nl), x = inp
        d = d_l * nl
        acc, y = body(acc, {nm: d[j] for j, nm in enumerate(names)}, x)
        d_lp1 = c1[:, None] * (mu_c[None, :] + c2[:, None]) * d_l - c3[:, None] * d_lm1 + s[:, None] * seed_c
        return (d_lp1, d_l, acc), y

    coef = tuple(jnp.asarray(a) for a in (f1, f2, f3, seed_at, norm))
    init = (jnp.asarray(first), jnp.zeros_like(jnp.asarray(first)), acc0)
    (_, _, acc), ys = jax.lax.scan(step, init, (coef, xs), unroll=unroll)
    return acc, ys


def wigner_d_table(mu: np.ndarray, pairs: tuple, l_max: int) -> dict[str, jax.Array]:
    """{d_name: (l_max + 1, n_mu) array} of d^l_{m1 m2}(mu) for l = 0 .. l_max (tests, small grids)."""
    _, ys = scan_wigner_d(mu, pairs, l_max, lambda acc, d, x: (acc, d), jnp.zeros(()), jnp.zeros(l_max + 1))
    return ys
