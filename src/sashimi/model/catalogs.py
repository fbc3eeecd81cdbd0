"""Which action catalog a trained model was built with (the core catalog, or a reference folder).

Shared by the generator (which loads a model) and the exporter (which packs one), so neither imports
the other.
"""

from __future__ import annotations

from pathlib import Path

from sashimi.errors import DataError, Location


def catalog_spec(model) -> str | None:
    """Where the model's training catalog came from: None = the core catalog, else a folder path."""
    train_data = (getattr(model, "config", None) or {}).get("train", {}).get("data", {})
    data_meta = (model.meta or {}).get("data", {})
    for spec in (data_meta.get("catalog_dir"), train_data.get("catalog_dir")):
        if spec not in (None, "", "core"):
            return str(spec)
    return None


def model_catalog(model, model_dir: Path):
    """The catalog the model was trained with: the core catalog, or a reference-format directory."""
    from sashimi.dsl.catalog import Catalog

    spec = catalog_spec(model)
    if spec is None:
        return Catalog.core()
    path = Path(spec)
    if not path.is_absolute():
        path = (model_dir / path).resolve()
    if not path.is_dir():
        raise DataError(
            f"the model was trained with the catalog in {spec!r}, which is not here", Location(str(model_dir))
        )
    return Catalog.load(path)
