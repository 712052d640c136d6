# Generated demo inputs: raw tweets with planted duplicates and planted task texts, task files, general-domain text and the tiny base
# model built from it, and stand-in annotations of the acceptability sheet.


rule demo_data:
    output:
        tweets=results("demo/tweets.jsonl"),
        truth=results("demo/duplicate_clusters.tsv"),
        planted=results("demo/planted_task_texts.tsv"),
        tune_target=results("demo/tune_target.jsonl"),
        tune_control=results("demo/tune_control.jsonl"),
        general_text=results("demo/general_text.txt"),
        sentiment3=results("demo/tasks/sentiment3.csv"),
        defamation=results("demo/tasks/defamation.csv"),
        jtbr=results("demo/tasks/jtbr.csv"),
        wrime=results("demo/tasks/wrime.tsv"),
        marc_ja=directory(results("demo/tasks/jglue/marc_ja")),
        jsts=directory(results("demo/tasks/jglue/jsts")),
        jcola=directory(results("demo/tasks/jglue/jcola")),
        jnli=directory(results("demo/tasks/jglue/jnli")),
        jsquad=directory(results("demo/tasks/jglue/jsquad")),
        jcommonsenseqa=directory(results("demo/tasks/jglue/jcommonsenseqa")),
    log:
        logs("demo_data.log"),
    conda:
        "../envs/tweetbert-cpu.yaml"
    params:
        out_dir=get_output_dir,
        settings=settings(DemoDataSettings),
    shell:
        "tweetbert demo-data --out-dir {params.out_dir:q} --settings {params.settings:q} 2> {log}"


rule build_base_model:
    input:
        results("demo/general_text.txt"),
    output:
        directory(results("demo/base_model")),
    log:
        logs("build_base_model.log"),
    benchmark:
        results("benchmarks/build_base_model.tsv")
    conda:
        "../envs/tweetbert-cpu.yaml"
    # One torch thread: the model is tiny, and its weights depend on the thread count (the same on every machine).
    threads: 1
    params:
        settings=settings(DemoBaseModelSettings),
    shell:
        "tweetbert build-base-model --text {input:q} --output {output:q} --settings {params.settings:q}"
        " --threads {threads} 2> {log}"


rule demo_annotations:
    input:
        key=results("analysis/acceptability/kit/key.tsv"),
        sheet=results("analysis/acceptability/kit/sheet.csv"),
    output:
        results("demo/annotations/sheet.csv"),
    log:
        logs("demo_annotations.log"),
    conda:
        "../envs/tweetbert-cpu.yaml"
    shell:
        "tweetbert demo-annotate --key {input.key:q} --sheet {input.sheet:q} --output {output:q} 2> {log}"
