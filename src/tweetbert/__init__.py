"""tweetbert: from a raw Japanese tweet corpus to a domain-adapted Japanese BERT, one reproducible DAG."""

__version__ = "0.1.0"
