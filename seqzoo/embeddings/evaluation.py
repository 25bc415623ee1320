"""Word-vector quality on the evaluation sets gensim ships, through gensim's evaluators."""

from __future__ import annotations

from gensim.models import KeyedVectors
from gensim.test.utils import datapath


def evaluate(kv: KeyedVectors, restrict_vocab: int = 300000) -> dict:
    """Spearman on WordSim-353 and SimLex-999, and accuracy on Google's analogies.

    Returns per set the score and how many of its pairs / questions had words
    outside the vectors (gensim skips those). A set none of whose pairs (or questions) the vectors
    cover has no score: None, with 100% of its pairs out of the vocabulary.
    """
    results = {}
    for name, file in (("wordsim353", "wordsim353.tsv"), ("simlex999", "simlex999.txt")):
        try:
            _, spearman, oov_percent = kv.evaluate_word_pairs(datapath(file), restrict_vocab=restrict_vocab)
        except ValueError:  # gensim: "No valid similarity judgements found": every pair is out of vocabulary
            results[name] = {"spearman": None, "pairs_oov_percent": 100.0}
            continue
        results[name] = {"spearman": float(spearman.statistic), "pairs_oov_percent": float(oov_percent)}
    accuracy, sections = kv.evaluate_word_analogies(
        datapath("questions-words.txt"), restrict_vocab=restrict_vocab
    )
    total = next(s for s in sections if s["section"] == "Total accuracy")
    answered = len(total["correct"]) + len(total["incorrect"])
    results["analogies"] = {"accuracy": float(accuracy) if answered else None, "questions_answered": answered}
    return results
