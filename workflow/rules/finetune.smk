# Fine-tuning stage: an Optuna sweep per (model, task) keeping its best trial's model, then one test evaluation of it.


ONE_WORKER = len(SWEEP_WORKERS) == 1
"""A study with one worker scores its best trial in that worker's job: no second start for finetune_best."""


if ONE_WORKER:

    rule finetune_sweep:
        input:
            unpack(get_finetune_input),
        output:
            worker=results(
                f"finetune/{{model}}/{{task}}/workers/{SWEEP_WORKERS[0]}.json"
            ),
            best=results("finetune/{model}/{task}/best.json"),
            trials=results("finetune/{model}/{task}/trials.tsv"),
        log:
            logs(f"finetune_sweep/{{model}}/{{task}}/{SWEEP_WORKERS[0]}.log"),
        benchmark:
            results(
                f"benchmarks/finetune_sweep/{{model}}/{{task}}/{SWEEP_WORKERS[0]}.tsv"
            )
        conda:
            "../envs/tweetbert-cuda.yaml"
        resources:
            gpu=1,
        params:
            model=get_model_args,
            task=get_task_args,
            storage=get_study_storage,
            settings=settings(
                "tweetbert.sweep.workers.SweepSettings",
                derive=lambda wildcards: {"n_trials": get_n_trials(wildcards.task)},
            ),
            keep=results("finetune/{model}/{task}/kept"),
            worker=SWEEP_WORKERS[0],
        shell:
            "tweetbert finetune-sweep {params.model} {params.task} --storage {params.storage}"
            " --study {wildcards.model}/{wildcards.task} --worker-id {params.worker}"
            " --settings {params.settings} --keep-dir {params.keep} --summary {output.worker}"
            " --name {wildcards.model} --best {output.best} --trials {output.trials} > {log} 2>&1"

else:

    rule finetune_sweep:
        input:
            unpack(get_finetune_input),
        output:
            results("finetune/{model}/{task}/workers/{worker}.json"),
        log:
            logs("finetune_sweep/{model}/{task}/{worker}.log"),
        benchmark:
            results("benchmarks/finetune_sweep/{model}/{task}/{worker}.tsv")
        conda:
            "../envs/tweetbert-cuda.yaml"
        resources:
            gpu=1,
        params:
            model=get_model_args,
            task=get_task_args,
            storage=get_study_storage,
            settings=settings(
                "tweetbert.sweep.workers.SweepSettings",
                derive=lambda wildcards: {"n_trials": get_n_trials(wildcards.task)},
            ),
            keep=results("finetune/{model}/{task}/kept"),
        shell:
            "tweetbert finetune-sweep {params.model} {params.task} --storage {params.storage}"
            " --study {wildcards.model}/{wildcards.task} --worker-id {wildcards.worker}"
            " --settings {params.settings} --keep-dir {params.keep} --summary {output} > {log} 2>&1"

    rule finetune_best:
        input:
            unpack(get_finetune_input),
            workers=expand(
                results("finetune/{{model}}/{{task}}/workers/{worker}.json"),
                worker=SWEEP_WORKERS,
            ),
        output:
            best=results("finetune/{model}/{task}/best.json"),
            trials=results("finetune/{model}/{task}/trials.tsv"),
        log:
            logs("finetune_best/{model}/{task}.log"),
        benchmark:
            results("benchmarks/finetune_best/{model}/{task}.tsv")
        conda:
            "../envs/tweetbert-cuda.yaml"
        resources:
            gpu=1,
        params:
            model=get_model_args,
            task=get_task_args,
            storage=get_study_storage,
            settings=settings("tweetbert.finetune.train.FinetuneSettings"),
            keep=results("finetune/{model}/{task}/kept"),
        shell:
            "tweetbert finetune-best {params.model} {params.task} --storage {params.storage}"
            " --study {wildcards.model}/{wildcards.task} --name {wildcards.model} --keep-dir {params.keep}"
            " --settings {params.settings} --best {output.best} --trials {output.trials} > {log} 2>&1"


checkpoint select_best:
    input:
        expand(
            results("finetune/{model}/{task}/best.json"),
            model=MODELS,
            task=config["target_tasks"],
        ),
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
        settings=settings("tweetbert.analysis.selection.SelectionSettings"),
    shell:
        "tweetbert select-best --best {input} --settings {params.settings}"
        " --aggregate {output.aggregate} --best-model {output.best} --controls {output.controls}"
        " --controls-html {output.controls_html} --controls-markdown {output.controls_markdown}"
        " --candidates-scatter {output.candidates_scatter} --epochs {output.epochs} 2> {log}"
        " && tweetbert table-html --table {output.aggregate} --html {output.aggregate_html}"
        " --title 'Every sweep: best development and test scores' 2>> {log}"
