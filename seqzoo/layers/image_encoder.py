"""Images -> a grid of region features and their mean: the encoder of the captioners."""

from __future__ import annotations

import re
import sys

import keras
from keras import ops

from seqzoo.errors import UserError, check_choice


def _snake(name: str) -> str:
    """MobileNetV3Small -> mobilenet_v3_small, EfficientNetB0 -> efficientnet_b0, ResNet50 -> resnet50."""
    return re.sub(r"(?<=[a-z0-9])(?=V\d|B\d|[A-Z][a-z]+$)", "_", name).lower()


# keras.applications models by snake-case name: mobilenet_v3_small -> MobileNetV3Small.
APPLICATIONS = {_snake(name): name for name, value in vars(keras.applications).items()
                if callable(value) and name[0].isupper()}
MIN_APPLICATION_SIZE = 32
SUMMARIES = ("mean", "dense")
SUMMARY_CHANNELS = 16  # per region, into the dense summary


@keras.saving.register_keras_serializable(package="seqzoo")
class ImageEncoder(keras.layers.Layer):
    """Float images [batch, size, size, 3] in [0, 255] -> (regions [batch, L, units], summary [batch, units]).

    `cnn`: a small convolution stack trained from scratch (two 3x3 ReLU convolutions and a 2x2
    max pool per entry of `filters`), so a 64 x 64 image with three entries is an 8 x 8 grid of
    L = 64 regions. Any other name is a `keras.applications` model without its top (built with
    no weights: `seqzoo.models.captioning` loads the user's file), its last feature map the grid,
    its own preprocessing applied. Each region is projected to `units` and given a learned
    embedding of its place in the grid (Xu et al.'s annotation vectors a_i, which then say where
    they are: a context vector alone cannot tell "top left" from "bottom right" otherwise). The
    summary a decoder starts from is the regions' mean (`summary: mean`, Xu et al.) or a dense
    layer over the whole grid, each region narrowed to 16 channels first (`summary: dense`: the
    fully connected image vector of Vinyals et al., which keeps where things are).

    Args:
        backbone: str. `cnn`, or a keras.applications name (`mobilenet_v3_small`, `resnet50`, ...).
        image_size: int. Side of the square input images.
        filters: list of int. Channels of the `cnn` blocks.
        units: int. Size of each region's feature.
        backbone_trainable: bool. Whether the backbone's weights train (the projection always does).
        summary: str. `mean` or `dense`.

    Example:
    ```python
    regions, mean = ImageEncoder("cnn", 64, [32, 64, 128], 256)(images)  # [b, 64, 256], [b, 256]
    ```
    """

    def __init__(self, backbone: str, image_size: int, filters: list[int], units: int,
                 backbone_trainable: bool = True, summary: str = "mean", **kwargs):
        super().__init__(**kwargs)
        check_choice("image summary", summary, SUMMARIES)
        if backbone != "cnn":
            check_choice("backbone", backbone, ["cnn", *APPLICATIONS])
            if image_size < MIN_APPLICATION_SIZE:
                raise UserError(f"backbone {backbone!r} needs image_size >= {MIN_APPLICATION_SIZE}, "
                                f"got {image_size}")
        # === Config ===
        self.backbone_name = backbone
        self.image_size = image_size
        self.filters = list(filters)
        self.units = units
        self.backbone_trainable = backbone_trainable
        self.summary = summary
        # === Layers ===
        if backbone == "cnn":
            self.backbone = keras.Sequential(
                [keras.layers.Rescaling(1 / 255.0)]
                + [layer for f in filters for layer in (
                    keras.layers.Conv2D(f, 3, padding="same", activation="relu"),
                    keras.layers.Conv2D(f, 3, padding="same", activation="relu"),
                    keras.layers.MaxPooling2D(2))],
                name="cnn")
            self.preprocess = None
        else:
            application = getattr(keras.applications, APPLICATIONS[backbone])
            self.backbone = application(include_top=False, weights=None,
                                        input_shape=(image_size, image_size, 3))
            self.preprocess = getattr(sys.modules[application.__module__], "preprocess_input", None)
        self.backbone.trainable = backbone_trainable
        if min(self.grid()) < 1:
            raise UserError(f"image_size {image_size} is too small for {len(filters)} pooling blocks: "
                            f"it must be at least {2 ** len(filters)}")
        self.projection = keras.layers.Dense(units, activation="relu", name="regions")
        self.summary_layers = None
        if summary == "dense":  # each region narrowed to a few channels, then one layer over them all
            self.summary_layers = [keras.layers.Dense(SUMMARY_CHANNELS, activation="relu", name="narrowed"),
                                   keras.layers.Dense(units, activation="relu", name="summary")]

    def build(self, images_shape):
        self.backbone.build(images_shape)
        self.projection.build((None, None, self.backbone.compute_output_shape(images_shape)[-1]))
        rows, columns = self.grid()
        self.positions = self.add_weight(shape=(rows * columns, self.units), name="positions",
                                         initializer=keras.initializers.RandomNormal(stddev=0.1))
        if self.summary_layers is not None:
            self.summary_layers[0].build((None, None, self.units))
            self.summary_layers[1].build((None, rows * columns * SUMMARY_CHANNELS))

    def grid(self) -> tuple[int, int]:
        """(rows, columns) of the region grid."""
        if self.backbone_name == "cnn":  # each block halves the side ('valid' 2x2 pooling)
            side = self.image_size // 2 ** len(self.filters)
            return side, side
        shape = self.backbone.compute_output_shape((1, self.image_size, self.image_size, 3))
        return int(shape[1]), int(shape[2])

    def call(self, images, training=None):
        if self.preprocess is not None:
            images = self.preprocess(images)
        features = self.backbone(images, training=training and self.backbone_trainable)
        rows, columns = self.grid()
        regions = self.projection(ops.reshape(features, (-1, rows * columns, features.shape[-1])))
        regions = regions + self.positions
        if self.summary_layers is None:
            return regions, ops.mean(regions, axis=1)
        narrowed = self.summary_layers[0](regions)
        return regions, self.summary_layers[1](ops.reshape(narrowed, (-1, rows * columns * SUMMARY_CHANNELS)))

    def compute_output_shape(self, images_shape):
        rows, columns = self.grid()
        return (images_shape[0], rows * columns, self.units), (images_shape[0], self.units)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(backbone=self.backbone_name, image_size=self.image_size, filters=self.filters,
                      units=self.units, backbone_trainable=self.backbone_trainable, summary=self.summary)
        return config
