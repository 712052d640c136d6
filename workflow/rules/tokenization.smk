# Tokenization, per corpus: character coverage -> WordPiece vocabulary -> sequence lengths and tokenizer stats.


rule char_coverage:
    input:
        results("corpus/{corpus}/split.parquet"),
    output:
        table=results("tokenizer/{corpus}/char_coverage.tsv"),
        chars=results("tokenizer/{corpus}/chars.txt"),
        stats=results("tokenizer/{corpus}/char_coverage.json"),
        plot=report(
            results("tokenizer/{corpus}/char_coverage.png"),
            caption="../report/char_coverage.rst",
            category="2. Tokenizer",
            subcategory="Characters",
            labels={"corpus": "{corpus}", "figure": "character coverage"},
        ),
    log:
        logs("char_coverage/{corpus}.log"),
    conda:
        "../envs/tweetbert-cpu.yaml"
    params:
        settings=settings(CharCoverageSettings),
    shell:
        "tweetbert char-coverage --corpus {input:q} --settings {params.settings:q} --table {output.table:q}"
        " --chars {output.chars:q} --plot {output.plot:q} --stats {output.stats:q} 2> {log}"


rule train_tokenizer:
    input:
        corpus=results("corpus/{corpus}/split.parquet"),
        chars=results("tokenizer/{corpus}/chars.txt"),
    output:
        directory(results("tokenizer/{corpus}/tokenizer")),
    log:
        logs("train_tokenizer/{corpus}.log"),
    benchmark:
        results("benchmarks/train_tokenizer/{corpus}.tsv")
    conda:
        "../envs/tweetbert-cpu.yaml"
    threads: PARALLEL_THREADS
    params:
        settings=settings(TokenizerTrainSettings),
    shell:
        "tweetbert train-tokenizer --corpus {input.corpus:q} --chars {input.chars:q}"
        " --settings {params.settings:q} --output {output:q} --workers {threads} 2> {log}"


rule length_histogram:
    input:
        corpus=results("corpus/{corpus}/split.parquet"),
        tokenizer=results("tokenizer/{corpus}/tokenizer"),
    output:
        table=results("tokenizer/{corpus}/lengths.tsv"),
        choice=results("tokenizer/{corpus}/max_seq_length.json"),
        plot=report(
            results("tokenizer/{corpus}/length_histogram.png"),
            caption="../report/length_histogram.rst",
            category="2. Tokenizer",
            subcategory="Sequence length",
            labels={"corpus": "{corpus}", "figure": "length histogram"},
        ),
    log:
        logs("length_histogram/{corpus}.log"),
    conda:
        "../envs/tweetbert-cpu.yaml"
    threads: PARALLEL_THREADS
    params:
        settings=settings(LengthHistogramSettings),
    shell:
        "tweetbert length-histogram --corpus {input.corpus:q} --tokenizer {input.tokenizer:q}"
        " --settings {params.settings:q} --table {output.table:q} --choice {output.choice:q}"
        " --plot {output.plot:q} --workers {threads} 2> {log}"


rule task_vocabulary:
    input:
        unpack(get_task_vocabulary_input),
    output:
        table=results("tokenizer/task_vocabulary.tsv"),
        html=report(
            results("tokenizer/task_vocabulary.html"),
            caption="../report/task_vocabulary_table.rst",
            category="2. Tokenizer",
            subcategory="Task text",
            labels={"figure": "by task (table)"},
        ),
        plot=report(
            results("tokenizer/task_vocabulary.png"),
            caption="../report/task_vocabulary.rst",
            category="2. Tokenizer",
            subcategory="Task text",
            labels={"figure": "by task"},
        ),
    log:
        logs("task_vocabulary.log"),
    conda:
        "../envs/tweetbert-cpu.yaml"
    threads: PARALLEL_THREADS
    params:
        tasks=get_all_task_options,
        tokenizers=get_tokenizer_stats_args,
        settings=settings(TaskVocabularySettings),
    shell:
        "tweetbert task-vocabulary --tasks {params.tasks:q} {params.tokenizers:q} --workers {threads}"
        " --settings {params.settings:q} --table {output.table:q} --html {output.html:q} --plot {output.plot:q} 2> {log}"


rule tokenizer_stats:
    input:
        unpack(get_tokenizer_stats_input),
    output:
        summary=results("tokenizer/{corpus}/stats/summary.tsv"),
        summary_html=report(
            results("tokenizer/{corpus}/stats/summary.html"),
            caption="../report/tokenizer_summary.rst",
            category="2. Tokenizer",
            subcategory="Vocabulary",
            labels={"corpus": "{corpus}", "figure": "summary"},
        ),
        composition=report(
            results("tokenizer/{corpus}/stats/composition.png"),
            caption="../report/tokenizer_composition.rst",
            category="2. Tokenizer",
            subcategory="Vocabulary",
            labels={"corpus": "{corpus}", "figure": "composition"},
        ),
        overlap=report(
            results("tokenizer/{corpus}/stats/overlap.png"),
            caption="../report/tokenizer_overlap.rst",
            category="2. Tokenizer",
            subcategory="Vocabulary",
            labels={"corpus": "{corpus}", "figure": "overlap and unknown rate"},
        ),
        lengths=report(
            results("tokenizer/{corpus}/stats/lengths.png"),
            caption="../report/tokenizer_lengths.rst",
            category="2. Tokenizer",
            subcategory="Vocabulary",
            labels={"corpus": "{corpus}", "figure": "lengths"},
        ),
        table=results("tokenizer/{corpus}/stats/composition.tsv"),
        lengths_table=results("tokenizer/{corpus}/stats/lengths.tsv"),
    log:
        logs("tokenizer_stats/{corpus}.log"),
    conda:
        "../envs/tweetbert-cpu.yaml"
    threads: PARALLEL_THREADS
    params:
        tokenizers=get_tokenizer_stats_args,
    shell:
        "tweetbert tokenizer-stats --corpus {input.corpus:q} {params.tokenizers:q} --base base"
        " --summary {output.summary:q} --composition {output.table:q} --lengths {output.lengths_table:q}"
        " --composition-plot {output.composition:q} --overlap-plot {output.overlap:q}"
        " --lengths-plot {output.lengths:q} --summary-html {output.summary_html:q}"
        " --corpus-name {wildcards.corpus} --workers {threads} 2> {log}"
