"""A mixture density output (Bishop 1994, as Graves 2013 uses it for pen points): M bivariate
Gaussians over the next offset and a Bernoulli end of stroke; its negative log-likelihood; and
sampling with Graves' bias, in the graph.

The layer's output, per step, is one vector of 1 + 6M values, in this order:
  end-of-stroke probability | weights (M, summing to 1) | means x (M) | means y (M) |
  standard deviations x (M) | standard deviations y (M) | correlations (M, in (-1, 1))
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf
from keras import ops

SIGMA_LOG_LIMIT = 10.0  # standard deviations within exp(-10)..exp(10): no overflow, no zero
RHO_LIMIT = 0.999  # |correlation| below 1: the Gaussian never degenerates to a line
EPSILON = 1e-7


@keras.saving.register_keras_serializable(package="seqzoo")
class MixtureDensity(keras.layers.Layer):
    """Features [..., d] -> mixture parameters [..., 1 + 6 * components] (see the module).

    Args:
        components: int. M, the bivariate Gaussians.

    Example:
    ```python
    head = MixtureDensity(20)
    params = head(keras.ops.zeros([2, 5, 64]))  # [2, 5, 121]
    ```
    """

    def __init__(self, components: int, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.components = components
        self.dense = keras.layers.Dense(1 + 6 * components, name="dense", dtype="float32")

    def build(self, input_shape):
        self.dense.build(input_shape)

    def call(self, features):
        raw = self.dense(ops.cast(features, "float32"))
        end, weights, means, log_sigmas, rhos = ops.split(
            raw, [1, 1 + self.components, 1 + 3 * self.components, 1 + 5 * self.components], axis=-1
        )
        return ops.concatenate(
            [
                ops.sigmoid(end),
                ops.softmax(weights, axis=-1),
                means,
                ops.exp(ops.clip(log_sigmas, -SIGMA_LOG_LIMIT, SIGMA_LOG_LIMIT)),
                RHO_LIMIT * ops.tanh(rhos),
            ],
            axis=-1,
        )

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 1 + 6 * self.components)

    def get_config(self):
        return {**super().get_config(), "components": self.components}


def split_mixture(params):
    """Mixture parameters [..., 1 + 6M] -> (end [...], weights, mu_x, mu_y, sigma_x, sigma_y, rho
    [..., M])."""
    components = (params.shape[-1] - 1) // 6
    end, *rest = ops.split(params, [1] + [1 + k * components for k in range(1, 6)], axis=-1)
    return (end[..., 0], *rest)


@keras.saving.register_keras_serializable(package="seqzoo")
def mixture_nll(y_true, y_pred):
    """-log p(point | mixture) per step [...], in nats: points (dx, dy, end of stroke) [..., 3],
    mixture parameters [..., 1 + 6M]. The Gaussians' log densities are combined by log-sum-exp,
    and the end-of-stroke probability is clipped to [1e-7, 1 - 1e-7], so it is finite wherever
    the parameters are."""
    end, weights, mu_x, mu_y, sigma_x, sigma_y, rho = split_mixture(ops.cast(y_pred, "float32"))
    y_true = ops.cast(y_true, "float32")
    x, y, stroke_end = y_true[..., 0:1], y_true[..., 1:2], y_true[..., 2]
    z_x, z_y = (x - mu_x) / sigma_x, (y - mu_y) / sigma_y
    one_minus = 1.0 - ops.square(rho)
    log_density = (
        -math.log(2 * math.pi)
        - ops.log(sigma_x)
        - ops.log(sigma_y)
        - 0.5 * ops.log(one_minus)
        - (ops.square(z_x) + ops.square(z_y) - 2.0 * rho * z_x * z_y) / (2.0 * one_minus)
    )
    log_mixture = ops.logsumexp(ops.log(ops.maximum(weights, 1e-30)) + log_density, axis=-1)
    end = ops.clip(end, EPSILON, 1.0 - EPSILON)
    log_end = stroke_end * ops.log(end) + (1.0 - stroke_end) * ops.log(1.0 - end)
    return -(log_mixture + log_end)


def sample_mixture(params, bias, seed=None, greedy=False, uniform=None):
    """One point [batch, 3] from mixture parameters [batch, 1 + 6M], in the graph.

    Graves' (2013, eqs. 61-62) bias b >= 0 sharpens the weights (softmax(log w (1 + b))) and shrinks
    the deviations (sigma exp(-b)); b = 0 samples the model as trained. `greedy`: the most probable
    component's mean, and the pen lifted where p(end) > 0.5 (deterministic).

    The randomness is four uniform numbers in [0, 1) a row, `uniform` [batch, 4], drawn from `seed`
    (int32 [2]) unless given (the `.tflite` `write` takes them from the app, as LiteRT has no seeded
    random op): the component by the inverse of the weights' cumulative sum, the offset's two
    standard normals by Box-Muller, the pen lifted where the last one falls below p(end). Builtin
    LiteRT ops only."""
    end, weights, mu_x, mu_y, sigma_x, sigma_y, rho = split_mixture(params)
    if greedy:
        chosen = tf.argmax(weights, axis=-1, output_type=tf.int32)
        pick = lambda values: tf.gather(values, chosen, batch_dims=1)  # noqa: E731
        return tf.stack([pick(mu_x), pick(mu_y), tf.cast(end > 0.5, tf.float32)], axis=-1)
    if uniform is None:
        uniform = tf.random.stateless_uniform(tf.stack([tf.shape(params)[0], 4]), seed)
    cumulative = tf.cumsum(tf.nn.softmax(tf.math.log(tf.maximum(weights, 1e-30)) * (1.0 + bias)), axis=-1)
    below = tf.cast(cumulative < uniform[:, :1] * cumulative[:, -1:], tf.int32)
    chosen = tf.minimum(tf.reduce_sum(below, axis=-1), tf.shape(weights)[-1] - 1)
    pick = lambda values: tf.gather(values, chosen, batch_dims=1)  # noqa: E731
    radius = tf.sqrt(-2.0 * tf.math.log(tf.maximum(1.0 - uniform[:, 1], 1e-12)))
    angle = 2.0 * math.pi * uniform[:, 2]
    z0, z1 = radius * tf.cos(angle), radius * tf.sin(angle)
    scale, r = tf.exp(-bias), pick(rho)
    x = pick(mu_x) + pick(sigma_x) * scale * z0
    y = pick(mu_y) + pick(sigma_y) * scale * (r * z0 + tf.sqrt(1.0 - r * r) * z1)
    lifted = uniform[:, 3] < end
    return tf.stack([x, y, tf.cast(lifted, tf.float32)], axis=-1)
