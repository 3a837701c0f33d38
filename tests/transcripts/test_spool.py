import os

from shared.transcripts.model import Phrase
from shared.transcripts.spool import PhraseSpool


def test_time_order_across_channels_with_channel_then_arrival_breaking_ties(tmp_path):
    channel0 = [Phrase(start=s, end=s + 1, channel=0, display=f"a{s}") for s in (0.0, 2.0, 4.0, 6.0)]
    channel1 = [Phrase(start=s, end=s + 1, channel=1, display=f"b{s}") for s in (1.0, 2.0, 5.0)]
    same_time = [
        Phrase(start=2.0, end=3.0, channel=0, display="a2-second"),
        Phrase(start=7.0, end=8.0, display="no channel"),
    ]
    with PhraseSpool(str(tmp_path)) as spool:
        for phrase in channel0 + channel1 + same_time:  # one channel after the other, as results often are
            spool.add(phrase)
        assert len(spool) == 9
        order = [p.display for p in spool]
        assert order == ["a0.0", "b1.0", "a2.0", "a2-second", "b2.0", "a4.0", "b5.0", "a6.0", "no channel"]
        assert [p.display for p in spool] == order  # re-iterable
        assert next(iter(spool)) == channel0[0]  # phrases come back whole


def test_in_order_input_and_round_trip(tmp_path):
    phrases = [Phrase(start=i, end=i + 0.5, channel=i % 2, display=f'{i} ü \n"q"') for i in range(50)]
    with PhraseSpool(str(tmp_path)) as spool:
        for phrase in phrases:
            spool.add(phrase)
        assert list(spool) == phrases


def test_nothing_left_on_disk(tmp_path):
    with PhraseSpool(str(tmp_path)) as spool:
        spool.add(Phrase(start=0, end=1, display="x"))
        assert list(spool)
    assert os.listdir(tmp_path) == []


def test_empty_spool(tmp_path):
    with PhraseSpool(str(tmp_path)) as spool:
        assert list(spool) == []
