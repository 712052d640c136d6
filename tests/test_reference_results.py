from tweetbert.analysis.acceptability_report import PUBLISHED_ACCEPTABILITY, PUBLISHED_ANNOTATORS, PUBLISHED_KAPPA
from tweetbert.analysis.downstream import PUBLISHED_DOWNSTREAM
from tweetbert.analysis.selection import REFERENCE_RESULTS
from tweetbert.analysis.topk import PUBLISHED_TOPK
from tweetbert.reference_results import reference_results


def _scores(tree):
    if isinstance(tree, dict):
        for value in tree.values():
            yield from _scores(value)
    else:
        yield tree


def test_every_report_reads_its_published_numbers_from_the_one_data_file():
    published = reference_results()
    assert REFERENCE_RESULTS is published["target_tasks"]
    assert PUBLISHED_TOPK is published["topk_accuracy"]
    assert PUBLISHED_ACCEPTABILITY is published["acceptability"]["by_k"]
    assert (PUBLISHED_ANNOTATORS, PUBLISHED_KAPPA) == (2, 0.38)
    assert {task: PUBLISHED_DOWNSTREAM[task] for task in published["downstream"]} == published["downstream"]
    assert PUBLISHED_DOWNSTREAM["jts1k"]["accuracy"]["tweet model"] == published["target_tasks"]["jts1k"][
        "tweet model (dedup)"]


def test_published_scores_are_fractions_and_ranks_are_integers():
    published = reference_results()
    scores = [*_scores(published["target_tasks"]), *_scores(published["downstream"]),
              *_scores(published["topk_accuracy"]), *published["acceptability"]["by_k"].values()]
    assert scores and all(isinstance(score, float) and 0 < score < 1 for score in scores)
    assert all(isinstance(k, int) for by_k in published["topk_accuracy"].values() for k in by_k)
    assert list(published["acceptability"]["by_k"]) == [1, 3, 5, 10, 100]
