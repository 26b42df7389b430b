"""examples/bucketing_lm.py in a short form: a bucketing LSTM language model on the
standard library's docstrings; validation perplexity must fall at least 40% below its
first-epoch value (the example's own exit status checks it)."""
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _load():
    spec = importlib.util.spec_from_file_location(
        "bucketing_lm", os.path.join(ROOT, "examples", "bucketing_lm.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_corpus_is_real_text():
    sentences = _load().docstring_sentences()
    assert len(sentences) > 2000
    words = {w for s in sentences for w in s}
    assert {"the", "return", "file", "string"} <= words


def test_short_bucketing_lm_trains(capsys):
    rc = _load().main(["--epochs", "5", "--sentences", "2000", "--hidden", "48", "--embed",
                       "48", "--vocab", "300", "--layers", "1", "--lr", "0.005"])
    out = capsys.readouterr().out
    assert "buckets used [10, 20, 30]" in out
    assert rc == 0, out
