# Cluster usage, run by hand after a SLURM run (`snakemake --profile profiles/slurm cluster_usage`): what each rule's
# jobs spent according to sacct (GPU- and CPU-hours, CPU efficiency, peak memory and wall time against what they
# asked for, retries), to size set-resources in profiles/slurm/config.yaml. The run is the newest snakemake log of
# a run that submitted SLURM jobs (.snakemake/log/). Not a default target: it needs sacct, which only a cluster has.


rule cluster_usage:
    output:
        table=results("cluster/usage.tsv"),
        html=report(
            results("cluster/usage.html"),
            caption="../report/cluster_usage.rst",
            category="6. Cluster usage",
            labels={"figure": "usage by rule"},
        ),
        plot=report(
            results("cluster/usage.png"),
            caption="../report/cluster_usage.rst",
            category="6. Cluster usage",
            labels={"figure": "hours by rule"},
        ),
    log:
        logs("cluster_usage.log"),
    # Local: it asks sacct on the node snakemake runs on (the login node) and takes seconds; as a SLURM job it
    # would queue behind the run it measures.
    localrule: True
    conda:
        "../envs/tweetbert-cpu.yaml"
    shell:
        "tweetbert cluster-usage --table {output.table:q} --html {output.html:q} --plot {output.plot:q} 2> {log}"
