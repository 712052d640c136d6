# Generated demo inputs: raw tweets with planted duplicates, task files and general-domain text.


rule demo_data:
    output:
        tweets="results/demo/tweets.jsonl",
        truth="results/demo/duplicate_clusters.tsv",
        tune_target="results/demo/tune_target.jsonl",
        tune_control="results/demo/tune_control.jsonl",
        general_text="results/demo/general_text.txt",
    log:
        "logs/demo_data.log",
    conda:
        "../envs/cpu.yaml"
    params:
        out_dir=get_output_dir,
        n_tweets=config["demo"]["n_tweets"],
        seed=config["seed"],
    shell:
        "tweetbert demo-data --out-dir {params.out_dir} --seed {params.seed} --n-tweets {params.n_tweets} 2> {log}"
