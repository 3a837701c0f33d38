"""Deriving in a thread beside the transfer: what the derivation raises reaches the caller, and the thread
ends also when the caller gives up early (a failed download), so nothing waits on it forever."""

import threading

import pytest

from shared.transcripts.beside import QUEUE_CHUNKS, DeriveBeside
from shared.transcripts.derive import FORMATS, Deriver


def _derive_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "derive"]


def test_an_error_in_the_derivation_is_raised_by_finish(tmp_path):
    deriver = Deriver(formats=frozenset(FORMATS), channel_labels={}, spool_dir=str(tmp_path))
    deriver.close()  # its raw copy is closed: feeding it raises
    with DeriveBeside(deriver) as beside:
        for _ in range(QUEUE_CHUNKS * 3):  # more than the queue holds: feed() must not block on the failure
            beside.feed(b'{"source": "a.wav"}')
        with pytest.raises(ValueError, match="closed file"):
            beside.finish()
    assert not _derive_threads()


def _give_up_mid_transfer(deriver: Deriver) -> None:
    with DeriveBeside(deriver) as beside:
        beside.feed(b'{"source": "a.wav", "recognizedPhrases": [')
        raise RuntimeError("download failed")


def test_the_thread_ends_when_the_caller_stops_before_finish(tmp_path):
    with Deriver(formats=frozenset(FORMATS), channel_labels={}, spool_dir=str(tmp_path)) as deriver:
        with pytest.raises(RuntimeError, match="download failed"):
            _give_up_mid_transfer(deriver)
        assert not _derive_threads()
