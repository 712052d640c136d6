"""Fine-tuning sweeps. Independent of any model: the settings (:mod:`.settings`, light), a validated search space
(:mod:`.space`), study storage that rides out database outages (:mod:`.storage`), workers that together finish
exactly N trials of one study (:mod:`.workers`) and rerun a dead worker's trial (:mod:`.lease`), and the results
(:mod:`.results`); these import optuna but neither torch nor transformers. On top of :mod:`tweetbert.finetune`:
the callback that reports to the trial (:mod:`.callback`, imports transformers) and the kept best model
(:mod:`.keep`, transformers); the trial's objective (:mod:`.objective`), a study's job and its worker processes
(:mod:`.job`) and the kept model scored on test (:mod:`.best`) import torch and transformers through
:mod:`tweetbert.finetune`."""
