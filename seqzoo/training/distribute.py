"""tf.distribute for seqzoo runs: which strategy, which cluster, and the epoch loop that runs
where Keras `fit` cannot.

`one_device` and `mirrored` train with Keras `fit`. `multi_worker` trains with `fit_loop`: Keras
3 `fit` fails under MultiWorkerMirroredStrategy (keras-team/keras#20585: its per-replica
reduction of the logs), while the model's own `train_step` under `strategy.run` trains
correctly. The loop runs that step -- the compiled model's loss, metrics, optimizer, gradient
clipping and loss scaling -- and drives the same Keras callbacks `fit` would, so checkpoints,
early stopping, logs and backups behave as in a single-device run.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import threading
import time
import warnings

import keras
import tensorflow as tf

from seqzoo.errors import SeqzooNote, UserError, check_choice, first_line
from seqzoo.schema import STRATEGIES

# What a peer's death looks like to the workers that are left.
LOST_PEER = (tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.CancelledError,
             tf.errors.AbortedError, tf.errors.InternalError)


class WorkerLost(UserError):
    """A cluster lost a worker: the run is interrupted (its backup stays), not failed."""


def workers_config(workers: str | None, task_index: int | None) -> str:
    """`--workers host:port,... --task-index i` as the TF_CONFIG that tf.distribute reads."""
    if workers is None:
        raise UserError("--task-index goes with --workers host:port,host:port,...")
    hosts = [host.strip() for host in workers.split(",")]
    for host in hosts:
        name, _, port = host.rpartition(":")
        if not name or not port.isdigit() or not 0 < int(port) < 65536:
            raise UserError(f"--workers expects host:port,host:port,..., got {host!r}")
    if task_index is None:
        raise UserError("--workers needs --task-index (this machine's place in the list, from 0)")
    if not 0 <= task_index < len(hosts):
        raise UserError(f"--task-index must be in [0, {len(hosts) - 1}] for {len(hosts)} workers, "
                        f"got {task_index}")
    return json.dumps({"cluster": {"worker": hosts}, "task": {"type": "worker", "index": task_index}})


def make_strategy(name: str, join_timeout: float = 600.0) -> tf.distribute.Strategy:
    """The strategy a run trains under. `auto`: `mirrored` when more than one GPU is visible,
    else `one_device`. `mirrored`: every GPU of this host (or every logical CPU without one).
    `multi_worker`: the cluster of TF_CONFIG, else of Slurm, else this host alone; a worker
    waits `join_timeout` seconds for the others to join, then stops with one line naming them."""
    check_choice("strategy", name, STRATEGIES)
    if name == "auto":  # physical devices: listing logical ones would start TF before a cluster can
        name = "mirrored" if len(tf.config.list_physical_devices("GPU")) > 1 else "one_device"
    if name == "one_device":
        return tf.distribute.get_strategy()  # the default: one device, no replicas
    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy(devices=[device.name for device in devices])
    cluster = _cluster()
    workers = cluster.cluster_spec().as_dict().get("worker", []) if cluster is not None else []
    if len(workers) > 1:  # the strategy waits for every worker to join: say for whom
        warnings.warn(f"worker {cluster.task_id} of {len(workers)}: waiting for the cluster's workers "
                      f"to join ({', '.join(workers)}); start the same command on each", SeqzooNote,
                      stacklevel=2)
    others = [host for i, host in enumerate(workers) if i != cluster.task_id]
    watchdog, interrupt = None, signal.getsignal(signal.SIGINT)
    # Python's handler can be put back only from the main thread, and only if Python set it.
    exit_2 = threading.current_thread() is threading.main_thread() and interrupt is not None
    if others:
        watchdog = _watchdog(join_timeout, f"seqzoo: error: worker {cluster.task_id}: the cluster's other "
                             f"workers ({', '.join(others)}) did not join within {join_timeout:g} s "
                             "(train.join_timeout); start the same command on each, or wait longer", exit_2)
    try:
        return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=cluster)
    except (ValueError, RuntimeError, tf.errors.OpError) as err:
        raise UserError(f"cannot start the multi-worker strategy: {first_line(err)}") from None
    finally:
        if watchdog is not None:
            os.kill(watchdog, signal.SIGKILL)
            os.waitpid(watchdog, 0)
            if exit_2:
                signal.signal(signal.SIGINT, interrupt)  # Python's own handler again


def _watchdog(seconds: float, message: str, exit_2: bool = True) -> int:
    """A child process that, unless killed first, writes `message` and ends this process with
    exit status 2 after `seconds` (without `exit_2`, with SIGKILL: status 137).

    TensorFlow waits for a cluster's workers in C++ holding the interpreter, where no Python
    signal handler or thread of this process can run, so only another process can end the wait,
    and only a handler in C can choose the exit status. Until the caller puts Python's back,
    SIGINT's handler is libc's `_exit` itself, which a handler's argument, the signal's number
    (SIGINT is 2), makes `_exit(2)`: the watchdog's SIGINT and a user's Ctrl-C (which Python's
    handler could not act on here) both end the process as a usage error ends it."""
    if exit_2:
        libc = ctypes.CDLL(None)
        libc.signal.argtypes, libc.signal.restype = [ctypes.c_int, ctypes.c_void_p], ctypes.c_void_p
        libc.signal(signal.SIGINT, ctypes.cast(libc._exit, ctypes.c_void_p))
    parent = os.getpid()
    child = os.fork()
    if child:
        return child
    try:  # the child: a sleep, a line, a signal; nothing that needs the parent's threads
        time.sleep(seconds)
        os.write(2, (message + "\n").encode())
        os.kill(parent, signal.SIGINT if exit_2 else signal.SIGKILL)
    finally:
        os._exit(0)


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run directory (the only process, or the cluster's chief)."""
    return strategy.extended.should_checkpoint


def describe(strategy: tf.distribute.Strategy, per_replica_batch: int) -> str:
    replicas = strategy.num_replicas_in_sync
    kind = type(strategy).__name__.removesuffix("V1")
    resolver = getattr(strategy, "cluster_resolver", None)
    where = ""
    if resolver is not None and resolver.cluster_spec().as_dict():
        workers = len(resolver.cluster_spec().as_dict().get("worker", []))
        where = f" on {workers} workers (this one: {resolver.task_type} {resolver.task_id})"
    return (f"strategy: {kind}{where}, {replicas} replica(s); global batch {per_replica_batch * replicas}"
            f" = {per_replica_batch} per replica x {replicas}")


def fit_loop(
    model: keras.Model, strategy: tf.distribute.Strategy, dataset: tf.data.Dataset, steps_per_epoch: int,
    validation: tf.data.Dataset, initial_epoch: int, epochs: int, callbacks: list, verbose,
) -> None:
    """`model.fit(dataset, steps_per_epoch=..., validation_data=..., initial_epoch=..., epochs=...)`
    as a loop of `strategy.run(model.train_step)`. `dataset` holds every epoch's global batches
    back to back; each worker keeps its replicas' share of every batch (DATA sharding), so the
    cluster takes the same steps a single process would with the same global batch."""
    with warnings.catch_warnings():  # tf.data's own note about reading options in graph mode
        warnings.filterwarnings("ignore", message="To make it possible to preserve tf.data options")
        train = strategy.experimental_distribute_dataset(_sharded_by_data(dataset))
        heldout = strategy.experimental_distribute_dataset(_sharded_by_data(validation))
    step_fn = tf.function(model.train_step, jit_compile=True) if model.jit_compile else model.train_step

    @tf.function
    def train_step(iterator):
        logs = strategy.run(step_fn, args=(next(iterator),))
        return strategy.experimental_local_results(logs)[0]  # this replica's running figures

    @tf.function
    def evaluate(batches):
        for batch in batches:
            strategy.run(model.test_step, args=(batch,))
        return model.get_metrics_result()  # read across replicas: the cluster's figures

    @tf.function
    def results():
        return model.get_metrics_result()

    verbose = 1 if verbose == "auto" else verbose
    with strategy.scope():
        callbacks = keras.callbacks.CallbackList(
            callbacks, add_history=True, add_progbar=bool(verbose), verbose=verbose, epochs=epochs,
            steps=steps_per_epoch, model=model)
        model.stop_training = False
        callbacks.on_train_begin()
        iterator = iter(train)
        epoch = initial_epoch
        try:  # a lost peer can surface in any op that touches the replicas, metrics' resets included
            for epoch in range(initial_epoch, epochs):
                model.reset_metrics()
                callbacks.on_epoch_begin(epoch)
                for step in range(steps_per_epoch):
                    callbacks.on_train_batch_begin(step)
                    logs = train_step(iterator)
                    callbacks.on_train_batch_end(step, _numbers(logs))
                    if model.stop_training:
                        break
                epoch_logs = _numbers(results())
                model.reset_metrics()
                epoch_logs.update({f"val_{k}": v for k, v in _numbers(evaluate(heldout)).items()})
                callbacks.on_epoch_end(epoch, epoch_logs)
                if model.stop_training:
                    break
        except LOST_PEER as err:
            raise WorkerLost(f"training stopped in epoch {epoch + 1}: another worker was lost "
                             f"({type(err).__name__}); start every worker again with the same "
                             f"command to resume at epoch {epoch + 1}") from None
        callbacks.on_train_end()


def _sharded_by_data(dataset: tf.data.Dataset) -> tf.data.Dataset:
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def _numbers(logs: dict) -> dict[str, float]:
    return {name: float(value) for name, value in logs.items()}


def _cluster():
    """The cluster resolver: TF_CONFIG's, else Slurm's, else None (this host alone)."""
    resolvers = tf.distribute.cluster_resolver
    if os.environ.get("TF_CONFIG"):
        try:
            spec = json.loads(os.environ["TF_CONFIG"])
        except ValueError as err:
            raise UserError(f"TF_CONFIG is not valid JSON: {err}") from None
        if not isinstance(spec, dict) or "cluster" not in spec or "task" not in spec:
            raise UserError('TF_CONFIG needs "cluster" and "task", as in {"cluster": {"worker": '
                            '["host1:2222", "host2:2222"]}, "task": {"type": "worker", "index": 0}}')
        return resolvers.TFConfigClusterResolver()
    if "SLURM_PROCID" in os.environ:
        return resolvers.SlurmClusterResolver()
    return None
