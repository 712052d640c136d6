"""Tokenizer stages: character coverage, a Twitter WordPiece vocabulary, fast batch tokenization and its stats."""
