from tweetbert.corpus.shingles import MecabWords
from tweetbert.demo.annotations import PartOfSpeechTagger
from tweetbert.mecab import mecab_tagger
from tweetbert.tokenization.mecab import JapaneseWords


def test_every_word_segmentation_shares_the_one_tagger_of_the_process():
    tagger = mecab_tagger()
    assert mecab_tagger() is tagger
    assert MecabWords()._parse == tagger.parse
    assert PartOfSpeechTagger()._tagger is tagger
    assert JapaneseWords()._parse == tagger.parse
