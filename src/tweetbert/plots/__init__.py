"""Figures for the report: seaborn/matplotlib, written as PNG by batch jobs without a display."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

DPI = 120


def save_figure(fig: plt.Figure, path: Path, *, tight: bool = True) -> plt.Figure:
    """Writes a figure (tight layout unless the caller laid it out, fixed dpi, no timestamp metadata) and frees it
    from pyplot; the figure is returned so a test can read the colours it was drawn in."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if tight:
        fig.tight_layout()
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return fig
