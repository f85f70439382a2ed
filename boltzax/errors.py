"""Errors, with classy's names so that ``except CosmoSevereError`` in user scripts keeps working."""


class CosmoError(Exception):
    """Base class of boltzax errors (classy: ``CosmoError``)."""


class CosmoSevereError(CosmoError):
    """Bad input: unknown or contradictory parameter, value outside the allowed range."""


class CosmoComputationError(CosmoError):
    """The computation failed for valid input (e.g. a root solve that does not converge)."""


class NotImplementedOutputError(CosmoSevereError):
    """An output (method or ``output=`` entry) that boltzax does not compute yet."""
