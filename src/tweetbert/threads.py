"""A job's CPU threads, and no more: the pools libraries start on their own held to the number the rule declared.

Left alone, torch (OpenMP), BLAS and the ``tokenizers`` library (rayon) each start a thread per core of the node, so
a job that Snakemake (or SLURM) gave one CPU would compete with every other job on the machine. The CLI calls
:func:`limit_threads` before a stage runs, with the stage's ``--threads`` (1 for stages without it: those that
spread their work over ``--workers`` processes run one thread in each, and the processes inherit the limit).
"""

from __future__ import annotations

import os
import sys

POOL_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS")
"""Read by each library when it builds its pool (OpenMP and BLAS when loaded, rayon at its first parallel call)."""


def limit_threads(threads: int) -> None:
    """Holds this process (and the processes it starts) to ``threads``: the pools' variables, ``tokenizers``'
    parallelism (off for one thread, so no pool starts at all) and torch's intra-op threads when torch is loaded
    already (OpenMP read its variable when it was)."""
    threads = max(1, int(threads))
    os.environ.update({name: str(threads) for name in POOL_VARIABLES})
    os.environ["TOKENIZERS_PARALLELISM"] = "true" if threads > 1 else "false"
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
