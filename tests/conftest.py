"""Fixtures shared by several test modules."""

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_base_model(tmp_path_factory) -> Path:
    """A tiny general-domain BERT (own WordPiece, 20 MLM steps): small enough for CPU tests, real enough to load."""
    from tweetbert.demo import generate_general_text
    from tweetbert.demo.base_model import build_demo_base_model

    root = tmp_path_factory.mktemp("base")
    general = root / "general.txt"
    general.write_text("\n".join(generate_general_text(1000, seed=0)) + "\n", encoding="utf-8")
    build_demo_base_model(general, root / "model", vocab_size=1500, hidden_size=32, num_layers=1, num_heads=2,
                          intermediate_size=64, max_position=64, steps=20, batch_size=16, seed=0)
    return root / "model"


@pytest.fixture(scope="module")
def one_thread():
    """Models this small train fastest on one thread; two threads on shared cores were measured many times slower."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def postgres_url():
    """A fresh, empty database on the test server (tests/postgres_db.py), dropped afterwards."""
    from postgres_db import fresh_database, not_configured, server_url

    server = server_url()
    if server is None:
        pytest.skip(not_configured("PostgreSQL case"))
    with fresh_database(server) as database:
        yield database
