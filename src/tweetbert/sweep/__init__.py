"""Fine-tuning sweeps. Independent of any model: a validated search space (:mod:`.space`), study storage that rides
out database outages (:mod:`.storage`), workers that together finish exactly N trials of one study
(:mod:`.workers`) and rerun a dead worker's trial (:mod:`.lease`), and the results (:mod:`.results`). On top of
:mod:`tweetbert.finetune` (these import transformers): the callback that reports to the trial (:mod:`.callback`),
the trial's objective (:mod:`.objective`), the kept best model (:mod:`.keep`), a study's job and its worker
processes (:mod:`.job`) and the kept model scored on test (:mod:`.best`)."""
