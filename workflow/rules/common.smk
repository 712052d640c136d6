# Config validation, helpers and wildcard constraints shared by every rule file.
import os

from tweetbert.config import validate_config

config = validate_config(config)

SIGNATURE_SHARDS = range(config["dedup"]["shards"])
BAND_GROUPS = range(config["dedup"]["band_groups"])


wildcard_constraints:
    corpus="|".join(config["corpora"]),
    shard=r"\d+",
    group=r"\d+",


def is_demo():
    return config["raw"]["path"] == "demo"


def get_raw_tweets():
    return "results/demo/tweets.jsonl" if is_demo() else config["raw"]["path"]


def get_tune_table(which):
    path = config["tune_dedup"][which]
    return f"results/demo/tune_{which}.jsonl" if path == "demo" else path


def get_column_args():
    return " ".join(
        f"--column {field}={name}" for field, name in config["raw"]["columns"].items()
    )


def get_normalize_args():
    flags = {
        "nfkc": "nfkc",
        "replace_urls": "replace-urls",
        "replace_mentions": "replace-mentions",
        "keep_newlines": "keep-newlines",
    }
    return " ".join(
        f"--{flag}" if config["normalize"][key] else f"--no-{flag}"
        for key, flag in flags.items()
    )


def get_dedup_args():
    dedup = config["dedup"]
    args = [
        f"--ngram {dedup['ngram']}",
        f"--threshold {dedup['threshold']}",
        f"--num-perm {dedup['num_perm']}",
        "--verify" if dedup["verify"] else "--no-verify",
        f"--seed {config['seed']}",
    ]
    if dedup["bands"] is not None:
        args.append(f"--bands {dedup['bands']} --rows {dedup['rows']}")
    return " ".join(args)


def get_split_ratio_args():
    return " ".join(
        f"--ratio {name}={share}" for name, share in config["split"]["ratios"].items()
    )


def get_split_input(wildcards):
    if wildcards.corpus == "balanced":
        return "results/corpus/balanced.parquet"
    return "results/corpus/dedup_annotated.parquet"


def get_output_dir(wildcards, output):
    """Directory of a rule's first output, for CLIs that write several files into one place."""
    return os.path.dirname(output[0])


def get_mem_mb(wildcards, attempt):
    """Memory of the corpus-wide jobs, doubled on each retry after running out."""
    return 4000 * attempt


def is_demo_base_model():
    return config["base_model"] == "demo"


def get_base_model():
    """The base model's location: the demo's own directory, or the configured hub id / local directory."""
    return "results/demo/base_model" if is_demo_base_model() else config["base_model"]


def get_base_model_input():
    """The base model as a file input when it is a directory we build or the user gave; hub ids are not files."""
    base = get_base_model()
    return {"base": base} if is_demo_base_model() or os.path.isdir(base) else {}


def get_migrate_input(wildcards):
    return {
        "tokenizer": f"results/tokenizer/{wildcards.corpus}/tokenizer",
        "corpus": f"results/corpus/{wildcards.corpus}/split.parquet",
        **get_base_model_input(),
    }


def get_tokenizer_stats_input(wildcards):
    return {
        "corpus": f"results/corpus/{wildcards.corpus}/split.parquet",
        "tokenizers": expand(
            "results/tokenizer/{corpus}/tokenizer", corpus=config["corpora"]
        ),
        **get_base_model_input(),
    }


def get_tokenizer_stats_args(wildcards):
    names = [f"--tokenizer base={get_base_model()}"]
    names += [
        f"--tokenizer {c}=results/tokenizer/{c}/tokenizer" for c in config["corpora"]
    ]
    return " ".join(names)


def get_initializer_range_arg():
    value = config["migrate"]["initializer_range"]
    return "" if value is None else f"--initializer-range {value}"


def get_demo_base_model_args():
    return " ".join(
        f"--{key.replace('_', '-')} {value}"
        for key, value in config["demo_base_model"].items()
    )


def get_final_outputs():
    return [
        "results/corpus/tune_dedup.tsv",
        "results/corpus/stats/summary.tsv",
        *expand("results/corpus/{corpus}/split.parquet", corpus=config["corpora"]),
        *expand(
            "results/tokenizer/{corpus}/{name}",
            corpus=config["corpora"],
            name=["max_seq_length.json", "char_coverage.png", "stats/summary.tsv"],
        ),
        *expand("results/migrate/{corpus}/migration.json", corpus=config["corpora"]),
    ]
