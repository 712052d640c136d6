"""Figures for the report: seaborn/matplotlib, written as PNG by batch jobs without a display."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

DPI = 120


def save_figure(fig: plt.Figure, path: Path) -> None:
    """Writes a figure (tight layout, fixed dpi, no timestamp metadata) and frees it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)
