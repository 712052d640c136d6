# Modeling, per corpus and candidate run: the base model migrated onto the new vocabulary, the corpus tokenised
# once for all its runs, continued MLM pre-training (batch size calibrated on a GPU when asked), and the table and
# plots of every grid point by phase (exploration, candidates), and every run's loss curves.


rule migrate_embeddings:
    input:
        unpack(get_migrate_input),
    output:
        model=directory(results("migrate/{corpus}/model")),
        stats=results("migrate/{corpus}/migration.json"),
    log:
        logs("migrate_embeddings/{corpus}.log"),
    conda:
        "../envs/tweetbert-cpu.yaml"
    params:
        base=get_base_model(),
        settings=settings(MigrateSettings),
    shell:
        "tweetbert migrate-embeddings --base {params.base:q} --tokenizer {input.tokenizer:q}"
        " --output {output.model:q} --stats {output.stats:q} --corpus {input.corpus:q}"
        " --settings {params.settings:q} 2> {log}"


rule calibrate_batch_size:
    input:
        unpack(get_calibrate_input),
    output:
        results("pretrain/calibration/{corpus}.json"),
    log:
        logs("calibrate_batch_size/{corpus}.log"),
    benchmark:
        results("benchmarks/calibrate_batch_size/{corpus}.tsv")
    conda:
        "../envs/tweetbert-cuda.yaml"
    resources:
        gpu=1,
    params:
        max_seq_length=get_max_seq_length,
    shell:
        "tweetbert calibrate-batch-size --model {input.model:q} --max-seq-length {params.max_seq_length}"
        " --output {output:q} --threads {threads} 2> {log}"


rule tokenize_corpus:
    input:
        unpack(get_tokenize_input),
    output:
        directory(results("pretrain/tokens/{corpus}")),
    log:
        logs("tokenize_corpus/{corpus}.log"),
    benchmark:
        results("benchmarks/tokenize_corpus/{corpus}.tsv")
    conda:
        "../envs/tweetbert-cpu.yaml"
    threads: PARALLEL_THREADS
    params:
        max_seq_length=get_max_seq_length,
    shell:
        "tweetbert tokenize-corpus --corpus {input.corpus:q} --tokenizer {input.tokenizer:q}"
        " --max-seq-length {params.max_seq_length} --output {output:q} --workers {threads} 2> {log}"


rule pretrain_candidate:
    input:
        unpack(get_pretrain_input),
    output:
        **get_epoch_outputs(),
        model=directory(results("pretrain/runs/{run}/model")),
        metrics=results("pretrain/runs/{run}/metrics.json"),
        curve=results("pretrain/runs/{run}/loss_curve.tsv"),
    log:
        logs("pretrain_candidate/{run}.log"),
    benchmark:
        results("benchmarks/pretrain_candidate/{run}.tsv")
    conda:
        "../envs/tweetbert-cuda.yaml"
    resources:
        gpu=1,
    params:
        epochs=get_epoch_output_args,
        settings=settings(
            PretrainSettings,
            derive=get_run_settings,
            skip=DERIVED_PRETRAIN_SETTINGS,
        ),
        checkpoints=results("pretrain/.checkpoints/{run}"),
        tensorboard=results("pretrain/tensorboard/{run}"),
        max_seq_length=get_max_seq_length,
        batch_size=get_batch_size,
    shell:
        "tweetbert pretrain-candidate --model {input.model:q} --tokens {input.tokens:q}"
        " --name {wildcards.run} --output-model {output.model:q} --metrics {output.metrics:q}"
        " --loss-curve {output.curve:q} {params.epochs:q} --checkpoint-dir {params.checkpoints:q}"
        " --tensorboard-dir {params.tensorboard:q} --max-seq-length {params.max_seq_length}"
        " --batch-size {params.batch_size} --threads {threads} --settings {params.settings:q} 2> {log}"


rule pretrain_exploration:
    input:
        unpack(get_exploration_input),
    output:
        table=results("pretrain/candidates.tsv"),
        table_html=report(
            results("pretrain/candidates.html"),
            caption="../report/pretrain_candidates.rst",
            category="3. Pre-training",
            labels={"figure": "candidates"},
        ),
        heatmap=report(
            results("pretrain/lr_wd_heatmap.png"),
            caption="../report/pretrain_heatmap.rst",
            category="3. Pre-training",
            labels={"figure": "learning rate x weight decay"},
        ),
        weight_decay=report(
            results("pretrain/loss_by_weight_decay.png"),
            caption="../report/pretrain_weight_decay.rst",
            category="3. Pre-training",
            labels={"figure": "loss by weight decay"},
        ),
        epochs=report(
            results("pretrain/loss_by_epochs.png"),
            caption="../report/pretrain_epochs.rst",
            category="3. Pre-training",
            labels={"figure": "loss by epochs"},
        ),
    log:
        logs("pretrain_exploration.log"),
    conda:
        "../envs/tweetbert-cpu.yaml"
    params:
        points=get_exploration_args(),
        learning_rate=PRETRAIN["learning_rate"],
        files=get_exploration_file_args,
    shell:
        "tweetbert pretrain-exploration {params.points:q} --learning-rate {params.learning_rate}"
        " {params.files:q} --table {output.table:q} --heatmap {output.heatmap:q}"
        " --weight-decay-plot {output.weight_decay:q} --epochs-plot {output.epochs:q}"
        " --table-html {output.table_html:q} 2> {log}"


rule pretrain_loss_curves:
    input:
        expand(results("pretrain/runs/{run}/loss_curve.tsv"), run=RUNS),
    output:
        report(
            results("pretrain/loss_curves.png"),
            caption="../report/pretrain_loss_curves.rst",
            category="3. Pre-training",
            labels={"figure": "loss curves"},
        ),
    log:
        logs("pretrain_loss_curves.log"),
    conda:
        "../envs/tweetbert-cpu.yaml"
    params:
        corpora=" ".join(
            f"--corpus {slug}={run.corpus}" for slug, run in RUN_BY_SLUG.items()
        ),
    shell:
        "tweetbert pretrain-loss-curves --curves {input:q} {params.corpora} --plot {output:q} 2> {log}"
