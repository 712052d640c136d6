# Corpus refinement: ingest -> normalize -> dedup (sharded) -> balance -> split, plus calibration, stats and the
# benchmark contamination check (whose matches the split drops with contamination.remove).


rule ingest:
    input:
        get_raw_tweets(),
    output:
        corpus=results("corpus/raw.parquet"),
        stats=results("corpus/ingest.json"),
    log:
        logs("ingest.log"),
    conda:
        "../envs/tweetbert-cpu.yaml"
    params:
        settings=settings(IngestSettings),
    shell:
        "tweetbert ingest --input {input:q} --output {output.corpus:q} --stats {output.stats:q}"
        " --settings {params.settings:q} 2> {log}"


rule normalize:
    input:
        results("corpus/raw.parquet"),
    output:
        corpus=results("corpus/normalized.parquet"),
        stats=results("corpus/normalize.json"),
    log:
        logs("normalize.log"),
    conda:
        "../envs/tweetbert-cpu.yaml"
    threads: PARALLEL_THREADS
    params:
        settings=settings(NormalizeOptions),
    shell:
        "tweetbert normalize --input {input:q} --output {output.corpus:q} --stats {output.stats:q}"
        " --workers {threads} --settings {params.settings:q} 2> {log}"


rule dedup_signatures:
    input:
        results("corpus/normalized.parquet"),
    output:
        directory(results("corpus/dedup/signatures/shard-{shard}")),
    log:
        logs("dedup_signatures/shard-{shard}.log"),
    benchmark:
        results("benchmarks/dedup_signatures/shard-{shard}.tsv")
    conda:
        "../envs/tweetbert-cpu.yaml"
    threads: PARALLEL_THREADS
    params:
        shards=config["dedup"]["shards"],
        # What signatures depend on, and nothing else: LSH-only changes never re-run these jobs.
        settings=settings(DedupSignatureSettings),
    shell:
        "tweetbert dedup-signatures --corpus {input:q} --output {output:q} --shards {params.shards}"
        " --shard {wildcards.shard} --workers {threads} --settings {params.settings:q} 2> {log}"


rule dedup_bands:
    input:
        expand(results("corpus/dedup/signatures/shard-{shard}"), shard=SIGNATURE_SHARDS),
    output:
        temp(results("corpus/dedup/links/group-{group}.npy")),
    log:
        logs("dedup_bands/group-{group}.log"),
    benchmark:
        results("benchmarks/dedup_bands/group-{group}.tsv")
    conda:
        "../envs/tweetbert-cpu.yaml"
    params:
        groups=config["dedup"]["band_groups"],
        settings=settings(DedupParams),
    shell:
        "tweetbert dedup-bands --signatures {input:q} --output {output:q} --groups {params.groups}"
        " --group {wildcards.group} --settings {params.settings:q} 2> {log}"


rule dedup:
    input:
        corpus=results("corpus/normalized.parquet"),
        signatures=expand(
            results("corpus/dedup/signatures/shard-{shard}"), shard=SIGNATURE_SHARDS
        ),
        links=expand(results("corpus/dedup/links/group-{group}.npy"), group=BAND_GROUPS),
    output:
        corpus=results("corpus/dedup_annotated.parquet"),
        stats=results("corpus/dedup.json"),
    log:
        logs("dedup.log"),
    benchmark:
        results("benchmarks/dedup.tsv")
    conda:
        "../envs/tweetbert-cpu.yaml"
    params:
        settings=settings(DedupParams),
    shell:
        "tweetbert dedup --corpus {input.corpus:q} --signatures {input.signatures:q} --links {input.links:q}"
        " --output {output.corpus:q} --stats {output.stats:q} --settings {params.settings:q} 2> {log}"


rule tune_dedup:
    input:
        target=get_tune_table("target"),
        control=get_tune_table("control"),
    output:
        table=results("corpus/tune_dedup.tsv"),
        table_html=report(
            results("corpus/tune_dedup.html"),
            caption="../report/tune_dedup_table.rst",
            category="1. Corpus",
            subcategory="Deduplication",
            labels={"figure": "calibration grid (table)"},
        ),
        plot=report(
            results("corpus/tune_dedup.png"),
            caption="../report/tune_dedup.rst",
            category="1. Corpus",
            subcategory="Deduplication",
            labels={"figure": "calibration grid"},
        ),
    log:
        logs("tune_dedup.log"),
    conda:
        "../envs/tweetbert-cpu.yaml"
    params:
        settings=settings(TuneDedupSettings),
    shell:
        "tweetbert tune-dedup --target {input.target:q} --control {input.control:q}"
        " --settings {params.settings:q} --table {output.table:q} --table-html {output.table_html:q}"
        " --plot {output.plot:q} 2> {log}"


rule balance:
    input:
        results("corpus/dedup_annotated.parquet"),
    output:
        corpus=results("corpus/balanced.parquet"),
        stats=results("corpus/balance.json"),
    log:
        logs("balance.log"),
    conda:
        "../envs/tweetbert-cpu.yaml"
    params:
        settings=settings(BalanceSettings),
    shell:
        "tweetbert balance --input {input:q} --output {output.corpus:q} --stats {output.stats:q}"
        " --settings {params.settings:q} 2> {log}"


rule corpus_stats:
    input:
        raw=results("corpus/raw.parquet"),
        dedup=results("corpus/dedup_annotated.parquet"),
        balanced=results("corpus/balanced.parquet"),
    output:
        summary=results("corpus/stats/summary.tsv"),
        summary_html=report(
            results("corpus/stats/summary.html"),
            caption="../report/corpus_summary.rst",
            category="1. Corpus",
            subcategory="Statistics",
            labels={"figure": "summary"},
        ),
        by_activity=report(
            results("corpus/stats/duplicates_by_activity.png"),
            caption="../report/duplicates_by_activity.rst",
            category="1. Corpus",
            subcategory="Statistics",
            labels={"figure": "duplicates by user activity"},
        ),
        contribution=report(
            results("corpus/stats/user_contribution.png"),
            caption="../report/user_contribution.rst",
            category="1. Corpus",
            subcategory="Statistics",
            labels={"figure": "tweets per user"},
        ),
        diversity=report(
            results("corpus/stats/diversity.png"),
            caption="../report/diversity.rst",
            category="1. Corpus",
            subcategory="Statistics",
            labels={"figure": "diversity"},
        ),
        by_activity_table=results("corpus/stats/duplicates_by_activity.tsv"),
        contribution_table=results("corpus/stats/user_contribution.tsv"),
        top_user_share=results("corpus/stats/top_user_share.tsv"),
        diversity_table=results("corpus/stats/diversity.tsv"),
    log:
        logs("corpus_stats.log"),
    conda:
        "../envs/tweetbert-cpu.yaml"
    params:
        settings=settings(CorpusStatsSettings),
    shell:
        "tweetbert corpus-stats --raw {input.raw:q} --dedup {input.dedup:q} --balanced {input.balanced:q}"
        " --summary {output.summary:q} --duplicates-by-activity {output.by_activity_table:q}"
        " --duplicates-by-activity-plot {output.by_activity:q}"
        " --user-contribution {output.contribution_table:q} --user-contribution-plot {output.contribution:q}"
        " --top-user-share {output.top_user_share:q} --diversity {output.diversity_table:q}"
        " --diversity-plot {output.diversity:q} --summary-html {output.summary_html:q}"
        " --settings {params.settings:q} 2> {log}"


rule contamination:
    input:
        tasks=get_all_task_files,
        corpus=results("corpus/normalized.parquet"),
        signatures=expand(
            results("corpus/dedup/signatures/shard-{shard}"), shard=SIGNATURE_SHARDS
        ),
    output:
        matches=results("corpus/contamination/matches.tsv"),
        examples=results("corpus/contamination/examples.tsv"),
        rows=results("corpus/contamination/rows.npy"),
        html=report(
            results("corpus/contamination/contamination.html"),
            caption="../report/contamination.rst",
            category="1. Corpus",
            subcategory="Benchmark contamination",
            labels={"figure": "matches by task and split"},
        ),
        examples_html=report(
            results("corpus/contamination/examples.html"),
            caption="../report/contamination_examples.rst",
            category="1. Corpus",
            subcategory="Benchmark contamination",
            labels={"figure": "examples"},
        ),
    log:
        logs("contamination.log"),
    benchmark:
        results("benchmarks/contamination.tsv")
    conda:
        "../envs/tweetbert-cpu.yaml"
    threads: PARALLEL_THREADS
    params:
        tasks=get_all_task_options,
        settings=settings(ContaminationSettings),
        normalize=settings(NormalizeOptions),
        dedup=settings(DedupParams),
    shell:
        "tweetbert contamination --tasks {params.tasks:q} --corpus {input.corpus:q}"
        " --signatures {input.signatures:q} --workers {threads} --settings {params.settings:q}"
        " --normalize-settings {params.normalize:q} --dedup-settings {params.dedup:q}"
        " --matches {output.matches:q} --matched-examples {output.examples:q} --rows {output.rows:q}"
        " --matches-html {output.html:q} --matched-examples-html {output.examples_html:q} 2> {log}"


rule split:
    input:
        corpus=get_split_input,
        annotated=results("corpus/dedup_annotated.parquet"),
        signatures=expand(
            results("corpus/dedup/signatures/shard-{shard}"), shard=SIGNATURE_SHARDS
        ),
        exclude=get_contamination_rows,
    output:
        corpus=results("corpus/{corpus}/split.parquet"),
        stats=results("corpus/{corpus}/split.json"),
        table=results("corpus/{corpus}/split.tsv"),
        table_html=report(
            results("corpus/{corpus}/split.html"),
            caption="../report/split.rst",
            category="1. Corpus",
            subcategory="Splits",
            labels={"corpus": "{corpus}"},
        ),
    log:
        logs("split/{corpus}.log"),
    conda:
        "../envs/tweetbert-cpu.yaml"
    params:
        settings=settings(SplitSettings),
        dedup=settings(DedupParams),
        exclude=get_exclude_args,
    shell:
        "tweetbert split --corpus {input.corpus:q} --annotated {input.annotated:q}"
        " --signatures {input.signatures:q} --output {output.corpus:q} --stats {output.stats:q}"
        " --table {output.table:q} --settings {params.settings:q} --dedup-settings {params.dedup:q}"
        " --table-html {output.table_html:q} --corpus-name {wildcards.corpus} {params.exclude:q} 2> {log}"
