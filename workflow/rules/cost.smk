# Cost, once the selection (and the benchmarks) are done: the device-hours every pre-training run took by stage,
# the other GPU rules' benchmark wall time, and each candidate's selection score against its pre-training cost.


rule pretrain_cost:
    input:
        unpack(get_cost_input),
    output:
        table=results("pretrain/cost/cost.tsv"),
        table_html=report(
            results("pretrain/cost/cost.html"),
            caption="../report/pretrain_cost.rst",
            category="3. Pre-training",
            labels={"figure": "cost in device-hours"},
        ),
        candidates=results("pretrain/cost/candidates.tsv"),
        plot=report(
            results("pretrain/cost/score_by_cost.png"),
            caption="../report/pretrain_cost_score.rst",
            category="3. Pre-training",
            labels={"figure": "selection score by cost"},
        ),
    log:
        logs("pretrain_cost.log"),
    conda:
        "../envs/tweetbert-cpu.yaml"
    params:
        points=get_exploration_args(),
        runs=results("pretrain/runs"),
        benchmarks=results("benchmarks"),
    shell:
        "tweetbert pretrain-cost {params.points} --runs {params.runs:q} --benchmarks {params.benchmarks:q}"
        " --selection {input.selection:q} --table {output.table:q} --table-html {output.table_html:q}"
        " --candidates {output.candidates:q} --plot {output.plot:q} 2> {log}"
