"""One module per zoo family; importing them fills the registry."""

from seqzoo.models import (  # noqa: F401
    captioning,
    deep_rnn,
    handwriting,
    language_model,
    music,
    sentiment,
    seq2seq,
    speech,
    tagger,
    tcn,
    transformer,
    wavenet,
)
