"""Models: migration of a base model's embeddings to a new vocabulary, continued MLM pre-training of the candidates
and their grids, and the settings of both (:mod:`.settings`, which imports no torch). The tiny demo base model is
:mod:`tweetbert.demo.base_model`."""
