# Analysis of the selected model: t-SNE probes, top-K masked-token accuracy, the acceptability kit and its report,
# and downstream benchmarks against the base model (all after the select_best checkpoint).


rule probe_embeddings:
    input:
        unpack(get_selected_input),
    output:
        plot=report(
            results("analysis/probes/tsne.png"),
            caption="../report/probes_tsne.rst",
            category="5. Analysis",
            subcategory="Probes",
            labels={"figure": "t-SNE of word classes"},
        ),
        set_plots=[
            report(
                get_probe_set_plots()[name],
                caption="../report/probes_set.rst",
                category="5. Analysis",
                subcategory="Probes",
                labels={"figure": f"t-SNE of probe set {name}: {', '.join(classes)}"},
            )
            for name, classes in config["probes"]["sets"].items()
        ],
        scores=results("analysis/probes/separation.tsv"),
        scores_html=report(
            results("analysis/probes/separation.html"),
            caption="../report/probes_separation.rst",
            category="5. Analysis",
            subcategory="Probes",
            labels={"figure": "class separation (silhouette)"},
        ),
        coordinates=results("analysis/probes/tsne_coordinates.tsv"),
        summary=results("analysis/probes/probes.json"),
    log:
        logs("probe_embeddings.log"),
    benchmark:
        results("benchmarks/probe_embeddings.tsv")
    conda:
        "../envs/tweetbert-cuda.yaml"
    resources:
        gpu=1,
    params:
        models=get_probe_model_args,
        set_plots=get_probe_set_plot_args(),
        settings=settings(ProbeSettings),
    shell:
        "tweetbert probe-embeddings {params.models:q} --settings {params.settings:q}"
        " --coordinates {output.coordinates:q} --scores {output.scores:q} --summary {output.summary:q}"
        " --plot {output.plot:q} --scores-html {output.scores_html:q} {params.set_plots:q}"
        " --threads {threads} 2> {log}"


rule topk_accuracy:
    input:
        unpack(get_selected_input),
        texts=get_evaluation_texts,
    output:
        plot=report(
            results("analysis/topk/topk.png"),
            caption="../report/topk.rst",
            category="5. Analysis",
            subcategory="Probes",
            labels={"figure": "top-K masked-token accuracy"},
        ),
        table=results("analysis/topk/topk.tsv"),
        examples=results("analysis/topk/examples.tsv"),
        stats=results("analysis/topk/topk.json"),
    log:
        logs("topk_accuracy.log"),
    benchmark:
        results("benchmarks/topk_accuracy.tsv")
    conda:
        "../envs/tweetbert-cuda.yaml"
    resources:
        gpu=1,
    params:
        models=get_probe_model_args,
        texts=get_evaluation_text_args(),
        settings=settings(TopKSettings),
    shell:
        "tweetbert topk-accuracy {params.models:q} --texts {input.texts:q} {params.texts:q}"
        " --settings {params.settings:q} --table {output.table:q} --examples {output.examples:q}"
        " --stats {output.stats:q} --plot {output.plot:q} --threads {threads} 2> {log}"


rule acceptability_sheet:
    input:
        unpack(get_selected_input),
        texts=get_evaluation_texts,
    output:
        key=results("analysis/acceptability/kit/key.tsv"),
        sheet=results("analysis/acceptability/kit/sheet.csv"),
        page=report(
            results("analysis/acceptability/kit/sheet.html"),
            caption="../report/acceptability_sheet.rst",
            category="5. Analysis",
            subcategory="Acceptability",
            labels={"figure": "annotation sheet"},
        ),
        stats=results("analysis/acceptability/kit/kit.json"),
    log:
        logs("acceptability_sheet.log"),
    benchmark:
        results("benchmarks/acceptability_sheet.tsv")
    conda:
        "../envs/tweetbert-cpu.yaml"
    params:
        model=get_selected_location,
        texts=get_evaluation_text_args(),
        settings=settings(AcceptabilitySheetSettings),
    shell:
        "tweetbert acceptability-sheet --model {params.model:q} --texts {input.texts:q} {params.texts:q}"
        " --settings {params.settings:q} --key {output.key:q} --sheet {output.sheet:q} --html {output.page:q}"
        " --stats {output.stats:q} 2> {log}"


rule acceptability_report:
    input:
        key=results("analysis/acceptability/kit/key.tsv"),
        sheets=get_filled_sheets(),
    output:
        plot=report(
            results("analysis/acceptability/acceptability_by_k.png"),
            caption="../report/acceptability_by_k.rst",
            category="5. Analysis",
            subcategory="Acceptability",
            labels={"figure": "acceptability by K"},
        ),
        annotators=report(
            results("analysis/acceptability/annotators.png"),
            caption="../report/acceptability_annotators.rst",
            category="5. Analysis",
            subcategory="Acceptability",
            labels={"figure": "annotators' labels"},
        ),
        table=results("analysis/acceptability/by_k.tsv"),
        summary=results("analysis/acceptability/summary.json"),
    log:
        logs("acceptability_report.log"),
    conda:
        "../envs/tweetbert-cpu.yaml"
    shell:
        "tweetbert acceptability-report --key {input.key:q} --sheet {input.sheets:q}"
        " --by-k {output.table:q} --summary {output.summary:q}"
        " --acceptability-by-k {output.plot:q} --annotators {output.annotators:q} 2> {log}"


rule downstream:
    input:
        selection=results("selection/best_model.json"),
        controls=get_downstream_control_best(),
        best=get_downstream_best,
        peers=get_downstream_peer_jobs,
        tasks=get_downstream_task_files(),
        predictions=get_downstream_predictions,
    output:
        table=report(
            results("analysis/downstream/downstream.html"),
            caption="../report/downstream_table.rst",
            category="5. Analysis",
            subcategory="Downstream",
            labels={"figure": "benchmark table"},
        ),
        plot=report(
            results("analysis/downstream/downstream.png"),
            caption="../report/downstream_plot.rst",
            category="5. Analysis",
            subcategory="Downstream",
            labels={"figure": "main metric by task"},
        ),
        tsv=results("analysis/downstream/downstream.tsv"),
        markdown=results("analysis/downstream/downstream.md"),
        differences=results("analysis/downstream/differences.tsv"),
    log:
        logs("downstream.log"),
    conda:
        "../envs/tweetbert-cpu.yaml"
    params:
        settings=settings(
            DownstreamSettings,
            controls=get_downstream_controls(),
        ),
        tasks=get_downstream_task_args(),
    shell:
        "tweetbert downstream --best {input.controls:q} {input.best:q} --selection {input.selection:q} {params.tasks:q}"
        " --predictions {input.predictions:q} --differences {output.differences:q}"
        " --settings {params.settings:q} --table {output.tsv:q} --markdown {output.markdown:q}"
        " --html {output.table:q} --plot {output.plot:q} 2> {log}"


rule results_at_a_glance:
    input:
        unpack(get_glance_input),
    output:
        report(
            results("glance.html"),
            caption="../report/glance.rst",
            category="0. Results",
            labels={"figure": "at a glance"},
        ),
    log:
        logs("results_at_a_glance.log"),
    conda:
        "../envs/tweetbert-cpu.yaml"
    params:
        optional=get_glance_args,
    shell:
        "tweetbert glance --selection {input.selection:q} --controls {input.controls:q}"
        " {params.optional:q} --output {output:q} 2> {log}"
