"""Models: the tiny demo base BERT and the migration of a base model's embeddings to a new vocabulary."""
