"""One module per zoo family; importing them fills the registry."""

from seqzoo.models import sentiment  # noqa: F401
