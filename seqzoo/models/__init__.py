"""One module per zoo family; importing them fills the registry."""

from seqzoo.models import deep_rnn, language_model, sentiment, seq2seq, tagger, tcn, transformer  # noqa: F401
