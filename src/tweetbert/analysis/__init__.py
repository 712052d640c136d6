"""What the trained models are worth, read from the stages' outputs.

The choice of the final model (:mod:`.selection`, its tie rule :mod:`.ties`, its files :mod:`.selection_outputs`),
the uncertainty beside every comparison (:mod:`.bootstrap`, :mod:`.uncertainty`) and the chance levels
(:mod:`.baselines`); probes of the selected model against the base model (:mod:`.probes` with :mod:`.probe_words`,
:mod:`.topk` with :mod:`.masked_words` and :mod:`.evaluation_texts`, the acceptability kit :mod:`.acceptability_sheet`
and :mod:`.acceptability_report`); the downstream benchmark (:mod:`.downstream`); the sweeps' own views
(:mod:`.studies`), what pre-training and a SLURM run cost (:mod:`.cost`, :mod:`.cluster_usage`), and the report's
first page (:mod:`.glance`).
"""
