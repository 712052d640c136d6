"""Stage settings and the schema agree, and the generic settings options behave as the rules rely on."""

import argparse
import dataclasses
import json

import pytest

from tweetbert.analysis.settings import (
    AcceptabilitySheetSettings,
    DownstreamSettings,
    ProbeSettings,
    SelectionSettings,
    TopKSettings,
)
from tweetbert.config import load_schema
from tweetbert.corpus.dedup import DedupParams
from tweetbert.corpus.ingest import IngestSettings
from tweetbert.corpus.normalize import NormalizeOptions
from tweetbert.corpus.settings import MAX_NGRAM as CORPUS_MAX_NGRAM
from tweetbert.corpus.settings import BalanceSettings, CorpusStatsSettings, DedupSignatureSettings, TuneDedupSettings
from tweetbert.corpus.shingles import MAX_NGRAM
from tweetbert.corpus.split import SplitSettings
from tweetbert.demo.settings import DemoBaseModelSettings, DemoDataSettings
from tweetbert.errors import ConfigError
from tweetbert.finetune.settings import FinetuneSettings
from tweetbert.modeling.pretrain import PretrainSettings
from tweetbert.modeling.settings import MigrateSettings
from tweetbert.settings import (
    add_settings_options,
    config_key,
    config_settings,
    explicit_default,
    mirrors,
    schema_node,
    setting,
    settings_from,
    settings_from_args,
)
from tweetbert.sweep.settings import SweepSettings
from tweetbert.tokenization.settings import CharCoverageSettings, LengthHistogramSettings, TokenizerTrainSettings
from tweetbert.tokenization.task_vocabulary import TaskVocabularySettings

SETTINGS = [IngestSettings, NormalizeOptions, DedupParams, DedupSignatureSettings, TuneDedupSettings, BalanceSettings,
            CorpusStatsSettings, SplitSettings, CharCoverageSettings, TokenizerTrainSettings, LengthHistogramSettings,
            MigrateSettings, DemoBaseModelSettings, DemoDataSettings, PretrainSettings, SweepSettings,
            FinetuneSettings, SelectionSettings, ProbeSettings, TopKSettings, AcceptabilitySheetSettings,
            DownstreamSettings, TaskVocabularySettings]

# Keys of mirrored sections that no stage takes as a setting, each for a reason.
WORKFLOW_ONLY = {
    "raw.path": "the rule's input file",
    "dedup.shards": "how many signature jobs the workflow plans",
    "dedup.band_groups": "how many bucketing jobs the workflow plans",
    "tune_dedup.target": "the rule's input file",
    "tune_dedup.control": "the rule's input file",
    "sweep.jobs_per_study": "how many jobs share a study (finetune_sweep_peer jobs beside finetune_sweep)",
    "sweep.storage": "the rule resolves `journal` to the study's own file, passed as --storage",
    "probes.evaluation_texts": "the rule resolves it to --texts and --split, --text-column, --split-column",
    "acceptability.filled_sheets": "the acceptability report's input files",
    "downstream.n_trials": "the trial count of the benchmark sweeps (SweepSettings.n_trials, per task)",
    "selection.seeds": "the sweep jobs' --seeds, for target tasks only",
}
# Fields whose schema default is a workflow choice the field cannot hold; the rule always derives the value.
DERIVED_DEFAULTS = {
    "pretrain.fixed.batch_size": "`auto`: calibrate_batch_size's result, passed as --batch-size",
    "pretrain.fixed.max_seq_length": "`histogram`: the length histogram's choice, passed as --max-seq-length",
}

SCHEMA = load_schema()
# Values for the settings that have no default (the study's own choice).
REQUIRED = {ProbeSettings: {"noun_classes": {}, "sets": {}}}


def _field_default(field):
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return field.default


@pytest.mark.parametrize("cls", SETTINGS, ids=lambda cls: cls.__name__)
def test_every_field_has_a_schema_key_and_takes_its_default_unless_derived(cls):
    for field in dataclasses.fields(cls):
        key = config_key(cls, field.name)
        node = schema_node(SCHEMA, key)
        assert node is not None, f"{cls.__name__}.{field.name}: no schema key {key}"
        assert node.get("description"), f"{key} has no description"
        if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            continue
        assert explicit_default(field) == (key in DERIVED_DEFAULTS), f"{cls.__name__}.{field.name}: own default"
        if key not in DERIVED_DEFAULTS:
            assert _field_default(field) == node["default"], f"{cls.__name__}.{field.name} vs schema {key}"


@pytest.mark.parametrize("cls", SETTINGS, ids=lambda cls: cls.__name__)
def test_the_schema_defaults_have_the_fields_types(cls):
    defaults = {field.name: _field_default(field) for field in dataclasses.fields(cls)
                if field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING}
    settings_from(cls, {**defaults, **REQUIRED.get(cls, {})})


def test_a_default_comes_from_the_schema_and_mirrors_must_be_below_dataclass():
    @dataclasses.dataclass(frozen=True)
    @mirrors("dedup")
    class Probe:
        num_perm: int = setting()
        seed: int = setting(key="seed")

    assert Probe() == Probe(num_perm=SCHEMA["properties"]["dedup"]["properties"]["num_perm"]["default"],
                            seed=SCHEMA["properties"]["seed"]["default"])
    with pytest.raises(KeyError, match="no default for dedup.nonsense"):
        mirrors("dedup")(type("Bad", (), {"__annotations__": {"nonsense": "int"}, "nonsense": setting()}))
    with pytest.raises(TypeError, match="below @dataclass"):
        mirrors("dedup")(dataclasses.dataclass(type("Late", (), {})))


def test_the_shingle_weights_cover_the_schemas_longest_ngram():
    assert CORPUS_MAX_NGRAM == MAX_NGRAM


def test_bad_pretrain_settings_are_a_config_error_naming_the_first_key():
    with pytest.raises(ConfigError, match=r"'pretrain.fixed.epochs'.*epochs must be at least 1.*mlm_probability"):
        PretrainSettings(epochs=0, mlm_probability=1.5)


def test_every_key_of_a_mirrored_section_is_a_field_or_workflow_only():
    fields_by_section = {}
    for cls in SETTINGS:
        fields_by_section.setdefault(cls.config_section, set()).update(
            config_key(cls, field.name) for field in dataclasses.fields(cls))
    for section, keys in fields_by_section.items():
        schema_keys = {f"{section}.{name}" for name in schema_node(SCHEMA, section)["properties"]}
        assert schema_keys - keys - set(WORKFLOW_ONLY) == set(), section
    assert set(WORKFLOW_ONLY) <= {f"{s}.{n}" for s in fields_by_section for n in schema_node(SCHEMA, s)["properties"]}


def _parse(cls, argv, **options):
    parser = argparse.ArgumentParser()
    add_settings_options(parser, cls, **options)
    return parser.parse_args(argv)


def test_the_settings_json_fills_the_dataclass_and_a_flag_overrides_it():
    args = _parse(DedupParams, ["--settings", json.dumps({"ngram": 3, "threshold": 0.5, "seed": 7}), "--ngram", "4"])
    assert settings_from_args(args, DedupParams) == DedupParams(ngram=4, threshold=0.5, seed=7)


def test_an_unknown_settings_key_is_an_error_naming_it():
    args = _parse(DedupSignatureSettings, ["--settings", json.dumps({"ngram": 3, "threshold": 0.5})])
    with pytest.raises(ConfigError, match=r"dedup\.threshold.*unknown setting"):
        settings_from_args(args, DedupSignatureSettings)


def test_a_missing_required_setting_is_an_error_naming_it():
    with pytest.raises(ConfigError, match=r"'probes.noun_classes': required setting"):
        settings_from(ProbeSettings, {"n_kanji": 5})


def test_a_wrongly_typed_value_is_an_error_naming_its_config_key():
    with pytest.raises(ConfigError, match=r"'seed': expected int"):
        settings_from(BalanceSettings, {"seed": "0"})
    with pytest.raises(ConfigError, match=r"'dedup.verify': expected bool"):
        settings_from(DedupParams, {"verify": 1})


def test_booleans_are_on_off_flags():
    assert settings_from_args(_parse(NormalizeOptions, ["--no-nfkc"]), NormalizeOptions).nfkc is False
    assert settings_from_args(_parse(NormalizeOptions, ["--nfkc"]), NormalizeOptions).nfkc is True
    assert settings_from_args(_parse(NormalizeOptions, []), NormalizeOptions) == NormalizeOptions()


def test_optional_values_take_null_and_numbers_and_ints_pass_as_floats():
    args = _parse(MigrateSettings, ["--settings", json.dumps({"initializer_range": None, "method": "focus"})])
    assert settings_from_args(args, MigrateSettings).initializer_range is None
    assert settings_from(MigrateSettings, {"initializer_range": 1}).initializer_range == 1.0
    assert settings_from_args(_parse(DedupParams, ["--bands", "8", "--rows", "4"]), DedupParams).lsh.bands == 8


def test_lists_and_choices_come_from_the_field_and_the_schema():
    args = _parse(TuneDedupSettings, ["--thresholds", "0.3", "0.4"])
    assert settings_from_args(args, TuneDedupSettings).thresholds == [0.3, 0.4]
    with pytest.raises(SystemExit):
        _parse(MigrateSettings, ["--method", "nonsense"])


def test_help_text_comes_from_the_schema(capsys):
    with pytest.raises(SystemExit):
        _parse(DedupParams, ["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "Jaccard similarity from which two tweets are near duplicates. (config dedup.threshold" in out


def test_a_rule_gets_exactly_the_dataclass_fields_with_sorted_keys_and_the_config_order_inside():
    config = {"seed": 3, "dedup": {"ngram": 5, "num_perm": 64, "threshold": 0.2, "shards": 2},
              "split": {"ratios": {"train": 0.8, "test": 0.2}}}
    assert config_settings(DedupSignatureSettings, config) == '{"ngram": 5, "num_perm": 64, "seed": 3}'
    assert config_settings(SplitSettings, config, seed=9) == '{"ratios": {"train": 0.8, "test": 0.2}, "seed": 9}'
    assert config_settings(SplitSettings, config, skip=("seed",)) == '{"ratios": {"train": 0.8, "test": 0.2}}'
