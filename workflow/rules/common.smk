# Config validation, target lists, input functions and wildcard constraints shared by every rule file.
import json
import os
import re

from snakemake.exceptions import WorkflowError

# The stages' settings modules import neither torch nor transformers (tests/test_settings_light.py).
from tweetbert.analysis.settings import (
    AcceptabilitySheetSettings,
    DownstreamSettings,
    ProbeSettings,
    SelectionSettings,
    TopKSettings,
)
from tweetbert.config import check_input_files, validate_config
from tweetbert.corpus.settings import (
    BalanceSettings,
    ContaminationSettings,
    CorpusStatsSettings,
    DedupParams,
    DedupSignatureSettings,
    IngestSettings,
    NormalizeOptions,
    SplitSettings,
    TuneDedupSettings,
)

# Registers the demo's tasks (sentiment3, defamation), which the demo config names.
from tweetbert.demo import task_specs
from tweetbert.demo.settings import DemoBaseModelSettings, DemoDataSettings
from tweetbert.errors import ConfigError
from tweetbert.modeling.candidates import expand_phases, explored_runs, training_runs
from tweetbert.modeling.settings import (
    DERIVED_PRETRAIN_SETTINGS,
    MigrateSettings,
    PretrainSettings,
)
from tweetbert.settings import config_settings
from tweetbert.sweep.settings import SweepSettings
from tweetbert.tokenization.settings import (
    CharCoverageSettings,
    LengthHistogramSettings,
    TaskVocabularySettings,
    TokenizerTrainSettings,
)

# In place: `config` stays the dict Snakemake holds, so whatever reads the workflow's config sees the defaults.
config.update(validate_config(config))
check_input_files(config)

PRETRAIN = config["pretrain"]["fixed"]
GRID_POINTS = expand_phases(config["pretrain"]["grids"], PRETRAIN, config["corpora"])
# Only the candidates phase is fine-tuned and selected; exploration points are pre-trained, reusing candidate runs.
RUN_OF_CANDIDATE = training_runs(
    GRID_POINTS["candidates"], PRETRAIN["epoch_checkpoints"]
)
RUN_OF_EXPLORED = explored_runs(
    GRID_POINTS["exploration"], RUN_OF_CANDIDATE, PRETRAIN["epoch_checkpoints"]
)
# A training run's settings come from the expanded grid, never from parsing its name.
RUN_BY_SLUG = {
    run.slug: run for run, _ in [*RUN_OF_CANDIDATE.values(), *RUN_OF_EXPLORED.values()]
}
RUNS = sorted(RUN_BY_SLUG)
MODELS = sorted(RUN_OF_CANDIDATE) + sorted(config["controls"])
TASKS = sorted(config["tasks"])
# A study's further jobs when it spans nodes (sweep.jobs_per_study > 1); job j0 is finetune_sweep itself.
SWEEP_PEER_JOBS = [f"j{k}" for k in range(1, config["sweep"]["jobs_per_study"])]


def local_cores():
    """The cores of a run on one machine (--cores); None on a cluster, which is run without --cores."""
    try:
        return workflow.cores
    except WorkflowError:
        return None


# Jobs that spread their work over worker processes ask for this many threads. On SLURM the profile sizes every
# such rule (set-threads, which also reach the job itself), and that is the number of CPUs the job requests. On one
# machine they leave a core to the other jobs: a job asking for every core would wait for all of them at once,
# behind one-core jobs (the sweeps) that free one core at a time, and the corpus stages the whole DAG waits on
# would start last.
PARALLEL_THREADS = 32 if local_cores() is None else max(1, min(32, local_cores() - 1))
# A sweep job's threads: one per worker process (the profile's set-threads gives each worker more on a cluster).
SWEEP_THREADS = config["sweep"]["workers"]

SIGNATURE_SHARDS = range(config["dedup"]["shards"])
BAND_GROUPS = range(config["dedup"]["band_groups"])


def results(path):
    """Where an output of this study lives: results/<run_name>/, so two configs never share or reuse outputs."""
    return os.path.join("results", config["run_name"], path)


def logs(path):
    """Where a job of this study logs: logs/<run_name>/."""
    return os.path.join("logs", config["run_name"], path)


wildcard_constraints:
    corpus="|".join(config["corpora"]),
    shard=r"\d+",
    run="|".join(RUNS),
    model="|".join(map(re.escape, MODELS)),
    task="|".join(map(re.escape, TASKS)) or "no-task",
    job="|".join(SWEEP_PEER_JOBS) or "no-job",
    group=r"\d+",


def settings(dataclass, derive=None, skip=(), **given):
    """params.settings of a rule: the JSON of exactly the fields (less `skip`) of the stage's settings dataclass,
    from the config unless given, or derived from the wildcards by `derive` (shell commands quote it with `:q`). A
    function, so that derived values are computed per job.
    """

    def as_json(wildcards):
        values = {**given, **(derive(wildcards) if derive else {})}
        return config_settings(dataclass, config, skip=skip, **values)

    return as_json


def is_demo():
    return config["raw"]["path"] == "demo"


def get_raw_tweets():
    return results("demo/tweets.jsonl") if is_demo() else config["raw"]["path"]


def get_tune_table(which):
    path = config["tune_dedup"][which]
    return results(f"demo/tune_{which}.jsonl") if path == "demo" else path


def get_all_task_files(wildcards):
    """Every configured task's files (fine-tuning and benchmark tasks alike), each once."""
    return list(dict.fromkeys(path for task in TASKS for path in get_task_files(task)))


def get_contamination_rows(wildcards):
    """The tweets matching a task's text, dropped before splitting where contamination.remove is set."""
    if TASKS and config["contamination"]["remove"]:
        return results("corpus/contamination/rows.npy")
    return []


def get_exclude_args(wildcards, input):
    """Arguments as a list, which the shell command quotes one by one ({params.x:q})."""
    return ["--exclude-rows", input.exclude] if input.exclude else []


def get_split_input(wildcards):
    if wildcards.corpus == "balanced":
        return results("corpus/balanced.parquet")
    return results("corpus/dedup_annotated.parquet")


def get_output_dir(wildcards, output):
    """Directory of a rule's first output, for CLIs that write several files into one place."""
    return os.path.dirname(output[0])


def is_demo_base_model():
    return config["base_model"] == "demo"


def get_base_model():
    """The base model's location: the demo's own directory, or the configured hub id / local directory."""
    return results("demo/base_model") if is_demo_base_model() else config["base_model"]


def get_base_model_input():
    """The base model as a file input when it is a directory we build or the user gave; hub ids are not files."""
    base = get_base_model()
    return {"base": base} if is_demo_base_model() or os.path.isdir(base) else {}


def get_migrate_input(wildcards):
    return {
        "tokenizer": results(f"tokenizer/{wildcards.corpus}/tokenizer"),
        "corpus": results(f"corpus/{wildcards.corpus}/split.parquet"),
        **get_base_model_input(),
    }


def get_tokenizer_stats_input(wildcards):
    return {
        "corpus": results(f"corpus/{wildcards.corpus}/split.parquet"),
        "tokenizers": expand(
            results("tokenizer/{corpus}/tokenizer"), corpus=config["corpora"]
        ),
        **get_base_model_input(),
    }


def get_tokenizer_stats_args(wildcards):
    names = ["--tokenizer", f"base={get_base_model()}"]
    for corpus in config["corpora"]:
        names += ["--tokenizer", f"{corpus}={results(f'tokenizer/{corpus}/tokenizer')}"]
    return names


def get_task_vocabulary_input(wildcards):
    return {
        "tokenizers": expand(
            results("tokenizer/{corpus}/tokenizer"), corpus=config["corpora"]
        ),
        "tasks": get_all_task_files(wildcards),
        **get_base_model_input(),
    }


def get_all_task_options(wildcards):
    """Every configured task's loader options, its path resolved, as the JSON of --tasks (quoted by {params.x:q})."""
    options = {
        task: {**config["tasks"][task], "path": get_task_path(task)} for task in TASKS
    }
    return json.dumps(options, ensure_ascii=False, sort_keys=True)


def get_length_input(corpus):
    """The length histogram's choice as an input, unless pretrain.fixed.max_seq_length fixes the length."""
    if PRETRAIN["max_seq_length"] == "histogram":
        return {"length": results(f"tokenizer/{corpus}/max_seq_length.json")}
    return {}


def get_max_seq_length(wildcards, input):
    """--max-seq-length: the configured number, or the histogram's JSON (which the CLI reads)."""
    if PRETRAIN["max_seq_length"] == "histogram":
        return input.length
    return PRETRAIN["max_seq_length"]


def get_calibrate_input(wildcards):
    return {
        "model": results(f"migrate/{wildcards.corpus}/model"),
        **get_length_input(wildcards.corpus),
    }


def get_tokenize_input(wildcards):
    return {
        "corpus": results(f"corpus/{wildcards.corpus}/split.parquet"),
        "tokenizer": results(f"tokenizer/{wildcards.corpus}/tokenizer"),
        **get_length_input(wildcards.corpus),
    }


def get_pretrain_input(wildcards):
    corpus = RUN_BY_SLUG[wildcards.run].corpus
    inputs = {
        "model": results(f"migrate/{corpus}/model"),
        "tokens": results(f"pretrain/tokens/{corpus}"),
        **get_length_input(corpus),
    }
    if PRETRAIN["batch_size"] == "auto":
        inputs["calibration"] = results(f"pretrain/calibration/{corpus}.json")
    return inputs


def get_batch_size(wildcards, input):
    """--batch-size: the configured number, or the calibration's JSON (which the CLI reads)."""
    if PRETRAIN["batch_size"] == "auto":
        return input.calibration
    return PRETRAIN["batch_size"]


def get_run_settings(wildcards):
    """A training run's grid values; the rest of its settings are pretrain.fixed's."""
    run = RUN_BY_SLUG[wildcards.run]
    names = ("learning_rate", "weight_decay", "epochs", "beta1", "beta2", "epsilon")
    return {name: getattr(run, name) for name in names}


def get_pretrain_metrics():
    return expand(results("pretrain/runs/{run}/metrics.json"), run=RUNS)


def get_epoch_outputs():
    """pretrain_candidate's folder of epoch models (epoch-k/ each), an output with epoch checkpoints only. One folder,
    not one output per epoch model: a rule's outputs cannot depend on its run's number of epochs, and Snakemake
    matches no input inside another job's directory output."""
    if PRETRAIN["epoch_checkpoints"]:
        return {"epochs": directory(results("pretrain/runs/{run}/epochs"))}
    return {}


def get_epoch_output_args(wildcards, output):
    return ["--epoch-models", output.epochs] if PRETRAIN["epoch_checkpoints"] else []


def get_runs_with_epoch_points():
    """The training runs some grid point takes an earlier epoch of: the exploration table reads their epoch models."""
    return sorted(
        {
            run.slug
            for run, epoch in [*RUN_OF_EXPLORED.values(), *RUN_OF_CANDIDATE.values()]
            if epoch != run.epochs
        }
    )


def get_exploration_input(wildcards):
    return {
        "metrics": get_pretrain_metrics(),
        "epochs": expand(
            results("pretrain/runs/{run}/epochs"), run=get_runs_with_epoch_points()
        ),
    }


def get_exploration_args():
    """Every grid point of both phases as SLUG=RUN:EPOCH, for the exploration table and plots."""
    args = []
    for option, runs in (
        ("explored", RUN_OF_EXPLORED),
        ("candidate", RUN_OF_CANDIDATE),
    ):
        for slug, (run, epoch) in sorted(runs.items()):
            args += [f"--{option}", f"{slug}={run.slug}:{epoch}"]
    return args


def get_exploration_file_args(wildcards, input):
    """Each run's metrics.json and, where a point is an earlier epoch of it, its epoch models, as RUN=PATH."""
    args = []
    for option, paths in (("metrics", input.metrics), ("epoch-models", input.epochs)):
        for path in paths:
            args += [f"--{option}", f"{os.path.basename(os.path.dirname(path))}={path}"]
    return args


def get_candidate_model(model):
    """(the declared output holding a candidate's model, the model's directory): its run's model/ for the run's last
    epoch, else the run's epochs/ folder (see get_epoch_outputs), whose epoch-k/ it is.
    """
    run, epoch = RUN_OF_CANDIDATE[model]
    if epoch == run.epochs:
        return (results(f"pretrain/runs/{run.slug}/model"),) * 2
    epochs = results(f"pretrain/runs/{run.slug}/epochs")
    return epochs, os.path.join(epochs, f"epoch-{epoch}")


def get_model_location(model):
    """(directory or hub id, whether to initialise it randomly) of a candidate or control."""
    if model in RUN_OF_CANDIDATE:
        return get_candidate_model(model)[1], False
    location = config["controls"][model]
    if location in ("base", "random"):
        return get_base_model(), location == "random"
    return location, False


def get_finetune_input(wildcards):
    inputs = {}
    if wildcards.model in RUN_OF_CANDIDATE:
        inputs["model"] = get_candidate_model(wildcards.model)[0]
    else:
        location, _ = get_model_location(wildcards.model)
        if location == get_base_model():
            inputs.update(get_base_model_input())
        elif os.path.isdir(location):
            inputs["model"] = location
    inputs["task"] = get_task_files(wildcards.task)
    return inputs


def get_model_args(wildcards):
    location, random_init = get_model_location(wildcards.model)
    return ["--model", location] + (["--random-init"] if random_init else [])


DEMO_TASK_FILES = {
    "sentiment3": "demo/tasks/sentiment3.csv",
    "defamation": "demo/tasks/defamation.csv",
    "jtbr": "demo/tasks/jtbr.csv",
    "wrime_emotion": "demo/tasks/wrime.tsv",
    "wrime_sentiment": "demo/tasks/wrime.tsv",
    **{
        task: f"demo/tasks/jglue/{task}"
        for task in ("marc_ja", "jsts", "jcola", "jnli", "jsquad", "jcommonsenseqa")
    },
}


def check_demo_tasks():
    """`path: demo` names a generated file, so only tasks the demo generates may use it."""
    for task, options in config["tasks"].items():
        if options.get("path") == "demo" and task not in DEMO_TASK_FILES:
            raise ConfigError(
                f"tasks.{task}.path",
                f"the demo generates no file for {task!r} "
                f"(it does for: {', '.join(sorted(DEMO_TASK_FILES))})",
            )


check_demo_tasks()


def get_task_path(task):
    """A task's file (or split -> file mapping): as configured, or `demo` for the file demo_data generates for it;
    None for a task read from the Hugging Face Hub (`hub`), which datasets fetches or finds in its cache.
    """
    path = config["tasks"][task].get("path")
    return results(DEMO_TASK_FILES[task]) if path == "demo" else path


def get_task_files(task):
    """The files a task reads, as job inputs; for a published id table also the hydrated texts."""
    path = get_task_path(task)
    files = (
        []
        if path is None
        else list(path.values()) if isinstance(path, dict) else [path]
    )
    hydrated = config["tasks"][task].get("hydrated")
    return files + ([hydrated] if hydrated else [])


def get_task_options(task):
    """A task's loader options as its stages get them: as configured, with `demo` resolved to the generated file."""
    options = dict(config["tasks"][task])
    if get_task_path(task) is not None:
        options["path"] = get_task_path(task)
    return options


def get_task_args(wildcards):
    pairs = [
        f"{key}={json.dumps(value, ensure_ascii=False)}"
        for key, value in get_task_options(wildcards.task).items()
    ]
    return ["--task", wildcards.task] + [
        arg for pair in pairs for arg in ("--task-option", pair)
    ]


def get_study_storage(wildcards):
    location = config["sweep"]["storage"]
    if location == "journal":
        return results(f"finetune/{wildcards.model}/{wildcards.task}/study.journal")
    return location


def get_leading_job_args(wildcards):
    """The leading job of a study that spans jobs numbers its workers j0w0, j0w1, ...; a study's only job w0, w1."""
    return ["--job-index", "0"] if SWEEP_PEER_JOBS else []


def get_n_trials(task):
    """Trials of a study: target tasks use sweep.n_trials (the selection reuses them); others may use fewer."""
    downstream_trials = config["downstream"]["n_trials"]
    if task in config["target_tasks"] or downstream_trials is None:
        return config["sweep"]["n_trials"]
    return downstream_trials


def get_seeds(wildcards):
    """Seeds of the best configuration: selection.seeds for target tasks (the selection compares them), 1 otherwise."""
    return (
        config["selection"]["seeds"] if wildcards.task in config["target_tasks"] else 1
    )


def get_selection():
    """select_best's record (model, gate, ranking); known once that checkpoint has run."""
    with open(checkpoints.select_best.get().output.best, encoding="utf-8") as handle:
        return json.load(handle)


def get_selected_model():
    return get_selection()["model"]


def get_selected_input(wildcards):
    """The selected candidate's model and the base model, the two models every probe compares."""
    return {
        "model": get_candidate_model(get_selected_model())[0],
        **get_base_model_input(),
    }


def get_probe_model_args(wildcards):
    """The base and the selected model; the latter labelled as failing the gate when no candidate passed it."""
    selection = get_selection()
    location, _ = get_model_location(selection["model"])
    label = "adapted" if selection["gate"]["selected_passes"] else "adapted_fails_gate"
    return ["--model", f"base={get_base_model()}", "--model", f"{label}={location}"]


def get_probe_set_plots():
    """One t-SNE figure per configured probe set (name -> path), next to the joint map."""
    return {
        name: results(f"analysis/probes/tsne_{name}.png")
        for name in config["probes"]["sets"]
    }


def get_probe_set_plot_args():
    args = []
    for name, path in get_probe_set_plots().items():
        args += ["--set-plot", f"{name}={path}"]
    return args


def get_selected_location(wildcards):
    return get_model_location(get_selected_model())[0]


def get_evaluation_texts(wildcards):
    """The held-out split of the selected candidate's corpus, or the configured table of texts."""
    texts = config["probes"]["evaluation_texts"]
    if texts["path"] != "held_out":
        return texts["path"]
    run, _ = RUN_OF_CANDIDATE[get_selected_model()]
    return results(f"corpus/{run.corpus}/split.parquet")


def get_evaluation_text_args():
    texts = config["probes"]["evaluation_texts"]
    if texts["path"] == "held_out":
        return ["--split", texts["split"]]
    if texts["split_column"] is None:
        return ["--text-column", texts["column"]]
    return [
        "--text-column",
        texts["column"],
        "--split-column",
        texts["split_column"],
        "--split",
        texts["split"],
    ]


def get_downstream_controls():
    """The configured comparison models, or by default the controls that are the base model itself."""
    named = config["downstream"]["controls"]
    return list(named) if named is not None else get_base_controls()


def get_downstream_control_best():
    """The controls' benchmark sweeps: known before selection, so they are planned (and run) alongside it."""
    return expand(
        results("finetune/{model}/{task}/best.json"),
        model=get_downstream_controls(),
        task=config["downstream"]["tasks"],
    )


def get_downstream_task_files():
    """The benchmark tasks' files: the downstream stage reads their test splits for the chance/majority rows."""
    return [
        file for task in config["downstream"]["tasks"] for file in get_task_files(task)
    ]


def get_downstream_task_args():
    """`--task-options TASK=JSON` per benchmark task: its loader options as fine-tuning gets them (get_task_args)."""
    args = []
    for task in config["downstream"]["tasks"]:
        options = get_task_options(task)
        args += [
            "--task-options",
            f"{task}={json.dumps(options, ensure_ascii=False, sort_keys=True)}",
        ]
    return args


def get_downstream_best(wildcards):
    """The selected candidate's benchmark sweeps, known once select_best has run."""
    return expand(
        results("finetune/{model}/{task}/best.json"),
        model=get_selected_model(),
        task=config["downstream"]["tasks"],
    )


def get_downstream_predictions(wildcards):
    """The per-example test outputs of every benchmark sweep, beside each best.json: the bootstrap's items."""
    return [
        path.replace("best.json", "test_predictions.json")
        for path in [*get_downstream_control_best(), *get_downstream_best(wildcards)]
    ]


def get_peer_jobs(models, tasks):
    """The further jobs' summaries of studies that span jobs (none by default): the stage reading a study's
    best.json asks for them too, so that every job of the study runs."""
    return expand(
        results("finetune/{model}/{task}/jobs/{job}.json"),
        model=models,
        task=tasks,
        job=SWEEP_PEER_JOBS,
    )


def get_downstream_peer_jobs(wildcards):
    return get_peer_jobs(
        [*get_downstream_controls(), get_selected_model()],
        config["downstream"]["tasks"],
    )


def get_base_controls():
    """The controls that are the base model itself (`base`, or the base model's own location)."""
    return [
        name
        for name, location in sorted(config["controls"].items())
        if location in ("base", config["base_model"])
    ]


def get_study_outputs(wildcards):
    """Every selection sweep's trial counts, and Optuna's views of the selected candidate's and the base model's
    target-task studies: a function, since the selected model is known once select_best has run.
    """
    if not config["target_tasks"]:
        return []
    return [
        results("finetune/studies/trial_counts.html"),
        *expand(
            results("finetune/studies/{model}/{task}/{view}.png"),
            model=[get_selected_model(), *get_base_controls()],
            task=config["target_tasks"],
            view=["history", "importance", "intermediate"],
        ),
    ]


def get_filled_sheets():
    filled = config["acceptability"]["filled_sheets"]
    return [results("demo/annotations/sheet.csv")] if filled == "demo" else list(filled)


def get_glance_input(wildcards):
    inputs = {
        "selection": results("selection/best_model.json"),
        "controls": results("selection/controls.tsv"),
        "differences": results("selection/differences.tsv"),
        "topk": results("analysis/topk/topk.tsv"),
    }
    if config["downstream"]["tasks"]:
        inputs["downstream"] = results("analysis/downstream/downstream.tsv")
    return inputs


def get_glance_args(wildcards, input):
    optional = [
        arg
        for name in ("topk", "downstream", "differences")
        if name in input.keys()
        for arg in (f"--{name}", input[name])
    ]
    return optional + (["--demo"] if is_demo() else [])


def get_analysis_outputs():
    """The probes and benchmarks of the selected model that the configuration enables."""
    outputs = [
        results("glance.html"),
        results("analysis/probes/tsne.png"),
        results("analysis/topk/topk.png"),
        results("analysis/acceptability/kit/sheet.csv"),
    ]
    if get_filled_sheets():
        outputs.append(results("analysis/acceptability/acceptability_by_k.png"))
    if config["downstream"]["tasks"]:
        outputs.append(results("analysis/downstream/downstream.html"))
    return outputs


def get_final_outputs():
    return [
        results("corpus/tune_dedup.tsv"),
        results("corpus/stats/summary.tsv"),
        *expand(results("corpus/{corpus}/split.parquet"), corpus=config["corpora"]),
        *expand(
            results("tokenizer/{corpus}/{name}"),
            corpus=config["corpora"],
            name=["max_seq_length.json", "char_coverage.png", "stats/summary.tsv"],
        ),
        *expand(results("migrate/{corpus}/migration.json"), corpus=config["corpora"]),
        *([results("tokenizer/task_vocabulary.png")] if TASKS else []),
        *([results("corpus/contamination/contamination.html")] if TASKS else []),
        results("pretrain/candidates.tsv"),
        results("pretrain/loss_curves.png"),
        *(
            [results("selection/best_model.json"), *get_analysis_outputs()]
            if config["target_tasks"]
            else []
        ),
    ]


def get_cost_input(wildcards):
    """Every run's metrics and the selection; the benchmarks' table too, so every sweep's benchmark file exists."""
    inputs = {
        "metrics": get_pretrain_metrics(),
        "selection": results("selection/best_model.json"),
    }
    if config["downstream"]["tasks"]:
        inputs["downstream"] = results("analysis/downstream/downstream.tsv")
    return inputs


def get_cost_outputs():
    """The report's cost items, where there is a selection to price the candidates against."""
    if not config["target_tasks"]:
        return []
    return [
        results("pretrain/cost/cost.html"),
        results("pretrain/cost/score_by_cost.png"),
    ]
