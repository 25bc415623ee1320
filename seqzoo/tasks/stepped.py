"""What the step-driven tasks share (language models, music, audio): the `step` signature an app
drives one input at a time with the states fed back, its model-card entry, the driver, and the
bits per step a quantised file is compared on."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from seqzoo.decoding import Generator
from seqzoo.tasks.base import Endpoint, Task
from seqzoo.text import Vectorizer


def step_endpoint(generator: Generator, batch_size: int | None) -> Endpoint:
    """`step`: token ids (or a frame) and the generator's named states in, probabilities and new
    states out. The SavedModel's (any batch) refuses what no step could have made: an id outside
    the vocabulary (an audio code past 255), a frame or a state that is not finite. The `.tflite`
    file's (batch 1) has no assert ops, which LiteRT's builtins lack: its app feeds back what it got."""
    specs = generator.state_specs()
    names = [name for name, _, _ in specs]

    def step(inputs, *states):
        checks = [] if batch_size is not None else _step_checks(generator, inputs, dict(zip(names, states,
                                                                                           strict=True)))
        with tf.control_dependencies(checks):
            inputs = tf.identity(inputs)
        probabilities, new_states = generator.step(inputs, list(states))
        return {"probabilities": probabilities, **dict(zip(names, new_states, strict=True))}

    signature = [generator.input_spec(batch_size)] + [
        tf.TensorSpec([batch_size, *shape], dtype, name=name) for name, shape, dtype in specs
    ]
    return step, signature


def _step_checks(generator: Generator, inputs, states: dict) -> list:
    """The served `step`'s checks of its inputs (see `step_endpoint`)."""
    if generator.frame_size is None:
        name, size = generator.id_name, generator.vocab_size
        checks = [tf.debugging.assert_non_negative(inputs, message=f"{name} < 0"),
                  tf.debugging.assert_less(inputs, size, message=f"{name} >= {size}: outside the vocabulary")]
    else:
        checks = [tf.debugging.assert_all_finite(inputs, message="frame is not finite")]
    return checks + [tf.debugging.assert_all_finite(state, message=f"{name} is not finite")
                     for name, state in states.items() if state.dtype.is_floating]


def step_card(input_name: str, input_spec: str, output_spec: str, states: str, batch: str = "batch") -> dict:
    """The model card's entry for a `step` signature (specs hold `{batch}`)."""
    return {
        "inputs": {input_name: input_spec.format(batch=batch),
                   "<states>": states if batch == "batch" else f"{states}, at batch {batch}"},
        "outputs": {"probabilities": output_spec.format(batch=batch), "<states>": "the states to feed back"},
    }


def run_step(interpreter, input_name: str, sequences: list[np.ndarray],
             start: dict | None = None) -> np.ndarray:
    """Drives a `.tflite` file's `step` signature as an app does: for each sequence (its inputs one
    per row, each [1, ...]), states from zeros (or as `start` names them), each input in turn, the
    states fed back; returns the last probabilities of each sequence [n, outputs]."""
    return np.stack([steps[-1] for steps in _every_step(interpreter, input_name, sequences, start)])


def step_bits(interpreter, input_name: str, sequences: list[np.ndarray],
              bernoulli: bool = False) -> np.ndarray:
    """Each sequence's mean bits per step for predicting its next input, through the `step` signature
    (`run_step`): -log2 p(next id), or for independent notes (`bernoulli`, frames of 0/1) the sum over
    notes of -log2 p(note's value). [n]; NaN for a sequence of one step."""
    bits = []
    for inputs, steps in zip(sequences, _every_step(interpreter, input_name, sequences), strict=True):
        if len(inputs) < 2:
            bits.append(np.nan)
            continue
        p = np.clip(steps[:-1].astype(np.float64), 1e-12, 1 - 1e-12)
        following = inputs[1:].reshape(len(inputs) - 1, -1)
        if bernoulli:
            log_likelihood = following * np.log2(p) + (1 - following) * np.log2(1 - p)
            bits.append(float(-log_likelihood.sum(axis=1).mean()))
        else:
            bits.append(float(-np.log2(p[np.arange(len(p)), following[:, 0].astype(int)]).mean()))
    return np.array(bits)


def _every_step(interpreter, input_name: str, sequences: list[np.ndarray], start: dict | None = None):
    """Per sequence, the probabilities after each of its inputs [steps, outputs]."""
    step = interpreter.get_signature_runner("step")
    details = step.get_input_details()
    for inputs in sequences:
        states = {name: np.zeros(d["shape"], d["dtype"]) for name, d in details.items() if name != input_name}
        states.update(start or {})
        rows = []
        for value in inputs:
            out = step(**{input_name: value.astype(details[input_name]["dtype"])}, **states)
            states = {name: out[name] for name in states}
            rows.append(out["probabilities"][0])
        yield np.stack(rows)


class SteppedTask(Task):
    """A task whose `.tflite` file is a `step` signature an app drives one input at a time, states fed
    back (language models, music, audio); its quantised files are compared in bits per step."""

    step_input: str  # the step's input: "token_ids", "frame", "code"
    step_unit: str  # what a step predicts, for the bits' name: "token", "frame", "sample"
    bernoulli = False  # independent notes (music), not one softmax

    def step_sequences(self, vectorizer: Vectorizer | None, inputs) -> list[np.ndarray]:
        """What serving_default takes, as each sequence's step inputs [steps, 1, ...]."""
        raise NotImplementedError

    def tflite_outputs(self, interpreter, vectorizer, texts, meta) -> dict[str, np.ndarray]:
        sequences = self.step_sequences(vectorizer, texts)
        return {"probabilities": run_step(interpreter, self.step_input, sequences)}

    def quantization_outputs(self, interpreter, vectorizer, inputs, meta) -> dict[str, np.ndarray]:
        sequences = self.step_sequences(vectorizer, inputs)
        return {"bits": step_bits(interpreter, self.step_input, sequences, self.bernoulli)}

    def tflite_agreement(self, reference, outputs, meta) -> dict[str, float]:
        reference_bits, bits = np.nanmean(reference["bits"]), np.nanmean(outputs["bits"])
        return {f"bits_per_{self.step_unit}": round(float(bits), 4),
                f"bits_per_{self.step_unit}_delta": round(float(bits - reference_bits), 4)}
