"""Plot axes of our own."""

from __future__ import annotations

import pyqtgraph as pg


class DecadeLabelAxis(pg.AxisItem):
    """An axis that, on a log scale, labels the decades only (…, 0.1, 1, 10): the 2 … 9 between
    them stay ticks without text, which on a short plot overlapped ("10 9 8 7 6 …")."""

    def tickStrings(self, values, scale, spacing):
        strings = super().tickStrings(values, scale, spacing)
        if not self.logMode:
            return strings
        return [s if abs(v - round(v)) < 1e-6 else "" for v, s in zip(values, strings, strict=False)]
