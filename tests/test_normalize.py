"""Normalisation: NFKC, placeholders and whitespace, each switch honoured."""

from tweetbert.corpus.normalize import NormalizeOptions, normalize_text


def test_nfkc_turns_full_width_forms_into_what_the_japanese_bert_sees():
    assert normalize_text("ＡＢＣ１２３ｶﾀｶﾅ！") == "ABC123カタカナ!"


def test_urls_and_mentions_become_placeholders_including_full_width_ones():
    text = "見て https://t.co/AbC123 と ｈｔｔｐｓ：／／t.co/x ＠ｕｓｅｒ_1 さん @abc"
    assert normalize_text(text) == "見て [URL] と [URL] [USER] さん [USER]"


def test_a_url_stops_at_japanese_punctuation_and_an_email_is_not_a_mention():
    assert normalize_text("https://t.co/x?y=1、これ mail a@b.com") == "[URL]、これ mail a@b.com"


def test_newlines_are_kept_but_blank_lines_and_runs_of_spaces_collapse():
    assert normalize_text("一行目  \r\n\n\n  二行目\t三") == "一行目\n二行目 三"


def test_each_switch_can_be_turned_off():
    options = NormalizeOptions(nfkc=False, replace_urls=False, replace_mentions=False, keep_newlines=False)
    assert normalize_text("ＡＢ https://t.co/x\n@me", options) == "ＡＢ https://t.co/x @me"
