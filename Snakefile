# tweetbert: raw Japanese tweets -> refined corpora -> a domain-adapted Japanese BERT -> probes, benchmarks, report.
from snakemake.utils import min_version

min_version("9.0")


# config.yaml is the demo: it applies only when the command line gives no configuration (neither --configfile nor
# --config, which fill `config` before this line runs), so a study's config is never mixed with the demo's values
# (see run_name: each config also writes to its own results/<run_name>/).
if not config:

    configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/demo.smk"
include: "workflow/rules/corpus.smk"
include: "workflow/rules/tokenization.smk"
include: "workflow/rules/modeling.smk"
include: "workflow/rules/finetune.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/cost.smk"
include: "workflow/rules/cluster.smk"


# Jobs of seconds that read only small files (metrics and benchmark JSON/TSV, sweep results and studies, the
# annotation sheets) and write tables, plots and pages: they run where snakemake runs, not as SLURM jobs, which would
# ask for the profile's default 240 minutes and 16 GB and wait in the queue longer than they run. None needs a GPU,
# much memory or more than one thread. tests/test_slurm_cluster.py reads this list.
localrules:
    results_at_a_glance,
    select_best,
    downstream,
    pretrain_exploration,
    pretrain_loss_curves,
    pretrain_cost,
    study_plots,
    trial_counts,
    acceptability_report,
    demo_annotations,


rule all:
    default_target: True
    input:
        get_final_outputs(),
        get_cost_outputs(),
        get_study_outputs,
