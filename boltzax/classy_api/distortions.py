"""classy's spectral-distortion methods (``output = Sd``): not implemented in boltzax; they raise
`NotImplementedOutputError` naming the method."""

from __future__ import annotations

from ._base import _not_yet


class DistortionsMixin:
    spectral_distortion = _not_yet("spectral_distortion", "spectral distortions are not planned yet")
    spectral_distortion_amplitudes = _not_yet("spectral_distortion_amplitudes",
                                              "spectral distortions are not planned yet")
