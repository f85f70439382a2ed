"""Exact sparse multivariate Laurent polynomials with rational coefficients.

A tiny computer-algebra kernel used once (at first use, cached) to derive the one-loop
perturbation-theory kernels in closed form: the SPT / redshift-space kernels F_2, G_2, Z_2,
F_3, G_3, Z_3 are built as polynomials in scalar products, angular averages are done exactly,
and the result is reduced to the power-law master integrals of Simonović et al. 2018
(arXiv:1708.08130).  No floating point enters the derivation; the result is a short list of
(rational coefficient, exponents) that `boltzax.pt.kernels` turns into FFTLog matrices.

A polynomial is a dict ``{exponent_tuple: Fraction}`` over a fixed tuple of variable names.
Negative exponents are allowed (Laurent polynomials).
"""

from __future__ import annotations

from fractions import Fraction


class Poly:
    """Sparse Laurent polynomial over the variables ``names`` with Fraction coefficients."""

    __slots__ = ("names", "terms")

    def __init__(self, names, terms=None):
        self.names = names
        self.terms = {} if terms is None else terms

    # -- constructors ---------------------------------------------------------------------
    @classmethod
    def const(cls, names, c):
        c = Fraction(c)
        return cls(names, {(0,) * len(names): c} if c else {})

    @classmethod
    def var(cls, names, name, power=1, coeff=1):
        e = [0] * len(names)
        e[names.index(name)] = power
        return cls(names, {tuple(e): Fraction(coeff)})

    # -- arithmetic -----------------------------------------------------------------------
    def _coerce(self, other):
        if isinstance(other, Poly):
            return other
        return Poly.const(self.names, other)

    def __add__(self, other):
        other = self._coerce(other)
        t = dict(self.terms)
        for e, c in other.terms.items():
            v = t.get(e, 0) + c
            if v:
                t[e] = v
            else:
                t.pop(e, None)
        return Poly(self.names, t)

    __radd__ = __add__

    def __neg__(self):
        return Poly(self.names, {e: -c for e, c in self.terms.items()})

    def __sub__(self, other):
        return self + (-self._coerce(other))

    def __rsub__(self, other):
        return self._coerce(other) - self

    def __mul__(self, other):
        other = self._coerce(other)
        t = {}
        for e1, c1 in self.terms.items():
            for e2, c2 in other.terms.items():
                e = tuple(a + b for a, b in zip(e1, e2))
                v = t.get(e, 0) + c1 * c2
                if v:
                    t[e] = v
                else:
                    t.pop(e, None)
        return Poly(self.names, t)

    __rmul__ = __mul__

    def __pow__(self, n):
        out = Poly.const(self.names, 1)
        for _ in range(n):
            out = out * self
        return out

    def is_zero(self):
        return not self.terms

    # -- substitutions --------------------------------------------------------------------
    def map_terms(self, fn):
        """Replace each monomial by ``fn(exponents, coeff) -> Poly`` and sum."""
        out = Poly(self.names, {})
        for e, c in self.terms.items():
            out = out + fn(e, c)
        return out

    def collect(self, keep):
        """Group by the exponents of the variables in ``keep``: {sub_exps: Poly(rest)}."""
        idx = [self.names.index(n) for n in keep]
        out = {}
        for e, c in self.terms.items():
            key = tuple(e[i] for i in idx)
            rest = tuple(0 if i in idx else x for i, x in enumerate(e))
            p = out.setdefault(key, Poly(self.names, {}))
            p.terms[rest] = p.terms.get(rest, 0) + c
        return out


def double_factorial_ratio(m: int) -> Fraction:
    """<cos^{2m} phi> over phi in [0, 2 pi) = (2m-1)!!/(2m)!!."""
    r = Fraction(1)
    for j in range(1, m + 1):
        r *= Fraction(2 * j - 1, 2 * j)
    return r
