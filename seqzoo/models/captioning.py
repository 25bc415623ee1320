"""The captioners: Show and Tell (Vinyals et al. 2014) and Show, Attend and Tell (Xu et al. 2015)."""

from __future__ import annotations

from pathlib import Path

import keras

from seqzoo.errors import UserError, first_line
from seqzoo.layers.image_encoder import APPLICATIONS, ImageEncoder
from seqzoo.layers.recurrent_decoder import RecurrentDecoder
from seqzoo.registry import register


def captioner(
    *, vocab_size: int, image_size: int, backbone: str, backbone_weights: str | None,
    backbone_trainable: bool, conv_filters: list[int], cell: str, units: int, embedding_dim: int,
    dropout: float, attention: str | None, attention_units: int = 64, heads: int = 4, gate: bool = False,
    attention_penalty: float = 0.0, name: str, pretrained=None,
) -> keras.Model:
    """[images, caption ids (teacher forcing)] -> next-word probabilities.

    An `ImageEncoder` (layer `encoder`) turns float images [batch, size, size, 3] in [0, 255]
    into a grid of region features and a summary; a `RecurrentDecoder` (layer `decoder`) writes
    the caption: with `attention` None, a dense image vector over the whole grid is the decoder's
    first input (Show and Tell); with an attention kind, the regions' mean starts the decoder and
    every step attends over the regions (Show, Attend and Tell). `seqzoo.decoding.Translator`
    searches captions with the same two layers as it searches translations.

    Args:
        vocab_size: int. Caption token ids, padding, OOV, [START] and [END] included.
        image_size: int. Side of the square images the model reads (decoded and resized in
            the graph by the exports).
        backbone: str. `cnn` or a keras.applications name (see `ImageEncoder`).
        backbone_weights: str or None. A local weights file for a keras.applications backbone
            (`.weights.h5`, as `model.save_weights` writes it); nothing is downloaded.
        backbone_trainable: bool. Whether the backbone trains too.
        conv_filters: list of int. Channels of the `cnn` backbone's blocks.
        cell: str. `lstm`, `gru` or `simple_rnn`.
        units: int. Region features and decoder state.
        embedding_dim: int. Size of the word embedding.
        dropout: float. Dropout on the decoder cell's inputs while training.
        attention: str or None. None (Show and Tell), or an `Attention` kind.
        gate: bool. Xu et al.'s gating scalar beta on the context.
        attention_penalty: float. Xu et al.'s doubly stochastic regulariser lambda.
    """
    if pretrained is not None:
        raise UserError("captioners learn their word embedding; pretrained embeddings are for text sources")
    images = keras.Input(shape=(image_size, image_size, 3), name="image")
    caption_ids = keras.Input(shape=(None,), dtype="int32", name="caption_ids")
    encoder = ImageEncoder(backbone, image_size, conv_filters, units, backbone_trainable,
                           summary="mean" if attention else "dense", name="encoder")
    regions, mean = encoder(images)
    if backbone != "cnn":
        _load_backbone_weights(encoder.backbone, backbone, backbone_weights)
    decoder = RecurrentDecoder(
        vocab_size, embedding_dim, cell, units, attention=attention, attention_units=attention_units,
        heads=heads, dropout=dropout, summary_first=attention is None, gate=gate,
        attention_penalty=attention_penalty, name="decoder",
    )
    probabilities = decoder(caption_ids, regions, keras.ops.ones_like(regions[:, :, 0], dtype="bool"), mean)
    return keras.Model([images, caption_ids], probabilities, name=name)


def _load_backbone_weights(backbone: keras.Model, name: str, path: str | None) -> None:
    example = (f"on a machine with internet: python -c \"import keras; keras.applications."
               f"{APPLICATIONS[name]}(include_top=False).save_weights('{name}.weights.h5')\"")
    if path is None:
        raise UserError(f"backbone {name!r} starts from ImageNet weights, which seqzoo never downloads: "
                        f"save them {example}, then pass backbone_weights=PATH")
    if not Path(path).is_file():
        raise UserError(f"backbone weights file '{path}' does not exist; save one {example}")
    try:
        backbone.load_weights(path)
    except Exception as err:  # h5py and Keras name a mismatch in many ways; one line says it
        raise UserError(f"backbone weights '{path}' do not fit {name!r} without its top: "
                        f"{first_line(err)}") from None


@register("show_tell", task="captioning")
def show_tell(**config) -> keras.Model:
    """Show and Tell: the image's mean feature is the LSTM's first input, then the words
    (see `captioner`).

    Example:
    ```python
    model = seqzoo.build("show_tell", backbone="mobilenet_v3_small", backbone_weights="mnv3s.weights.h5")
    ```
    """
    return captioner(**{**config, "attention": None}, name="show_tell")


@register("show_attend_tell", task="captioning")
def show_attend_tell(**config) -> keras.Model:
    """Show, Attend and Tell: every word attends over the image's regions (see `captioner`).

    Example:
    ```python
    model = seqzoo.build("show_attend_tell", backbone="cnn", attention="bahdanau", units=256)
    ```
    """
    return captioner(**config, name="show_attend_tell")
