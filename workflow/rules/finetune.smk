# Fine-tuning stage: one job per (model, task) Optuna study, its sweep.workers processes sharing the job's GPUs;
# once the study is complete the job scores the kept best model on test.


rule finetune_sweep:
    input:
        unpack(get_finetune_input),
    output:
        best=results("finetune/{model}/{task}/best.json"),
        trials=results("finetune/{model}/{task}/trials.tsv"),
        predictions=results("finetune/{model}/{task}/test_predictions.json"),
    log:
        logs("finetune_sweep/{model}/{task}.log"),
    benchmark:
        results("benchmarks/finetune_sweep/{model}/{task}.tsv")
    conda:
        "../envs/tweetbert-cuda.yaml"
    threads: SWEEP_THREADS
    resources:
        gpu=config["sweep"]["gpus"],
    params:
        model=get_model_args,
        task=get_task_args,
        storage=get_study_storage,
        settings=settings(
            SweepSettings,
            derive=lambda wildcards: {"n_trials": get_n_trials(wildcards.task)},
        ),
        keep=results("finetune/{model}/{task}/kept"),
        job=get_leading_job_args,
        seeds=get_seeds,
    shell:
        "tweetbert finetune-sweep {params.model:q} {params.task:q} --storage {params.storage:q}"
        " --study {wildcards.model}/{wildcards.task} --settings {params.settings:q} --keep-dir {params.keep:q}"
        " --threads {threads} {params.job:q} --name {wildcards.model} --best {output.best:q}"
        " --trials {output.trials:q} --predictions {output.predictions:q} --seeds {params.seeds} > {log} 2>&1"


# A study's further jobs (sweep.jobs_per_study > 1): one definition whatever the config, so the profiles'
# per-rule resources always name a rule; the {job} wildcard admits only the configured jobs (see common.smk),
# so with one job per study no file matches it and it never runs.
rule finetune_sweep_peer:
    input:
        unpack(get_finetune_input),
    output:
        results("finetune/{model}/{task}/jobs/{job}.json"),
    log:
        logs("finetune_sweep_peer/{model}/{task}/{job}.log"),
    benchmark:
        results("benchmarks/finetune_sweep_peer/{model}/{task}/{job}.tsv")
    conda:
        "../envs/tweetbert-cuda.yaml"
    threads: SWEEP_THREADS
    resources:
        gpu=config["sweep"]["gpus"],
    params:
        model=get_model_args,
        task=get_task_args,
        storage=get_study_storage,
        settings=settings(
            SweepSettings,
            derive=lambda wildcards: {"n_trials": get_n_trials(wildcards.task)},
        ),
        keep=results("finetune/{model}/{task}/kept"),
        index=lambda wildcards: wildcards.job.removeprefix("j"),
    shell:
        "tweetbert finetune-sweep {params.model:q} {params.task:q} --storage {params.storage:q}"
        " --study {wildcards.model}/{wildcards.task} --settings {params.settings:q} --keep-dir {params.keep:q}"
        " --threads {threads} --job-index {params.index} --summary {output:q} > {log} 2>&1"


checkpoint select_best:
    input:
        best=expand(
            results("finetune/{model}/{task}/best.json"),
            model=MODELS,
            task=config["target_tasks"],
        ),
        predictions=expand(
            results("finetune/{model}/{task}/test_predictions.json"),
            model=MODELS,
            task=config["target_tasks"],
        ),
        peers=get_peer_jobs(MODELS, config["target_tasks"]),
    output:
        best=results("selection/best_model.json"),
        aggregate=results("selection/aggregate.tsv"),
        aggregate_html=report(
            results("selection/aggregate.html"),
            caption="../report/selection_aggregate.rst",
            category="4. Fine-tuning",
            labels={"figure": "all sweeps"},
        ),
        controls=results("selection/controls.tsv"),
        controls_html=report(
            results("selection/controls.html"),
            caption="../report/selection_controls.rst",
            category="4. Fine-tuning",
            labels={"figure": "candidates vs controls"},
        ),
        controls_markdown=results("selection/controls.md"),
        intervals=results("selection/intervals.tsv"),
        differences=results("selection/differences.tsv"),
        differences_html=report(
            results("selection/differences.html"),
            caption="../report/selection_differences.rst",
            category="4. Fine-tuning",
            labels={"figure": "selected minus controls"},
        ),
        candidates_scatter=report(
            results("selection/candidates_scatter.png"),
            caption="../report/selection_scatter.rst",
            category="4. Fine-tuning",
            labels={"figure": "candidate scatter"},
        ),
        epochs=report(
            results("selection/epochs.png"),
            caption="../report/selection_epochs.rst",
            category="4. Fine-tuning",
            labels={"figure": "downstream metric by epochs"},
        ),
    log:
        logs("select_best.log"),
    conda:
        "../envs/tweetbert-cpu.yaml"
    params:
        settings=settings(SelectionSettings),
    shell:
        "tweetbert select-best --best {input.best:q} --predictions {input.predictions:q} --settings {params.settings:q}"
        " --aggregate {output.aggregate:q} --best-model {output.best:q} --controls {output.controls:q}"
        " --intervals {output.intervals:q} --differences {output.differences:q}"
        " --differences-html {output.differences_html:q}"
        " --controls-html {output.controls_html:q} --controls-markdown {output.controls_markdown:q}"
        " --candidates-scatter {output.candidates_scatter:q} --epochs {output.epochs:q}"
        " --aggregate-html {output.aggregate_html:q} 2> {log}"


# Optuna's own views of the sweeps behind the selection: the trials of every target-task study by state, and the
# history, parameter importances and intermediate values of the selected candidate's and the base model's studies
# (which ones, get_study_outputs decides once select_best has run).
rule study_plots:
    input:
        best=results("finetune/{model}/{task}/best.json"),
    output:
        history=report(
            results("finetune/studies/{model}/{task}/history.png"),
            caption="../report/study_history.rst",
            category="4. Fine-tuning",
            labels={"figure": "study {model}/{task}: optimisation history"},
        ),
        importance=report(
            results("finetune/studies/{model}/{task}/importance.png"),
            caption="../report/study_importance.rst",
            category="4. Fine-tuning",
            labels={"figure": "study {model}/{task}: parameter importances"},
        ),
        intermediate=report(
            results("finetune/studies/{model}/{task}/intermediate.png"),
            caption="../report/study_intermediate.rst",
            category="4. Fine-tuning",
            labels={"figure": "study {model}/{task}: intermediate values"},
        ),
    log:
        logs("study_plots/{model}/{task}.log"),
    conda:
        "../envs/tweetbert-cpu.yaml"
    params:
        storage=get_study_storage,
    shell:
        "tweetbert study-plots --storage {params.storage:q} --study {wildcards.model}/{wildcards.task}"
        " --best {input.best:q} --history {output.history:q} --importance {output.importance:q}"
        " --intermediate {output.intermediate:q} 2> {log}"


rule trial_counts:
    input:
        expand(
            results("finetune/{model}/{task}/trials.tsv"),
            model=MODELS,
            task=config["target_tasks"],
        ),
    output:
        table=results("finetune/studies/trial_counts.tsv"),
        html=report(
            results("finetune/studies/trial_counts.html"),
            caption="../report/study_trial_counts.rst",
            category="4. Fine-tuning",
            labels={"figure": "trials of every sweep"},
        ),
    log:
        logs("trial_counts.log"),
    conda:
        "../envs/tweetbert-cpu.yaml"
    shell:
        "tweetbert trial-counts --trials {input:q} --table {output.table:q} --html {output.html:q} 2> {log}"
