"""Keep the database in step with the registry after every ``kentcbs migrate``."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def sync_after_migrate(sender: Any, *, using: str = "default", verbosity: int = 1,
                       **kwargs: Any) -> None:
    """Load the code lists, then create or evolve the layers' tables and views."""
    from layers.codelists import load_codelists

    counts = load_codelists(using=using)
    if verbosity >= 2:
        logger.info("layers: code lists loaded: %s", counts)
    try:
        from layers.services import sync_all
    except ImportError:  # services not shipped yet
        return
    sync_all(using=using, skip_missing_models=True)
