"""Tasks: the data, metrics, serving signatures and parity each kind of entry shares."""

from seqzoo.tasks.audio import AudioTask
from seqzoo.tasks.audio_classification import AudioClassificationTask
from seqzoo.tasks.base import (
    DataRole,
    Endpoint,
    ParityRole,
    Prepared,
    ReadOptions,
    Serving,
    ServingRole,
    Task,
)
from seqzoo.tasks.captioning import CaptioningTask
from seqzoo.tasks.classification import ClassificationTask
from seqzoo.tasks.handwriting import HandwritingSynthesisTask, HandwritingTask
from seqzoo.tasks.language_model import LanguageModelTask
from seqzoo.tasks.music import MusicTask
from seqzoo.tasks.speech import SpeechTask
from seqzoo.tasks.tagging import TaggingTask
from seqzoo.tasks.translation import TranslationTask

TASKS: dict[str, Task] = {
    task.name: task for task in (ClassificationTask(), LanguageModelTask(), TaggingTask(),
                                    TranslationTask(), CaptioningTask(), MusicTask(), AudioTask(),
                                    HandwritingTask(), HandwritingSynthesisTask(), SpeechTask(),
                                    AudioClassificationTask())
}


def get_task(name: str) -> Task:
    return TASKS[name]


__all__ = ["TASKS", "DataRole", "Endpoint", "ParityRole", "Prepared", "ReadOptions", "Serving", "ServingRole",
           "Task", "get_task"]
