"""promptsource's own templates (the ``promptsource`` package, 0.2.3): lookup, selection and application.

Selection follows the original GLIDER P3 dataset configs: ``include="all"`` takes every
template of the dataset minus ``ignore``; ``include="original"`` takes the templates whose
metadata marks the dataset's original task, minus ``ignore``. Templates come in
promptsource's order (sorted by name). ``PromptTemplate`` applies one template to a row,
checking first that the row has every field the template reads (jinja renders a missing
field as an empty string, silently).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

from glider.data.raw_task import Rendered, find_label
from glider.errors import ConfigError, DataError

References = Callable[[dict[str, Any], str], tuple[str, ...]]  # (row, rendered target) -> scoring answers
RESERVED = frozenset({"answer_choices", "zip"})  # set by promptsource itself


def _promptsource() -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # promptsource imports pkg_resources, which warns about itself
            from promptsource import templates
    except ImportError as err:
        raise ConfigError(
            f"promptsource is not installed ({err}); T0/P3 tasks use its templates. Run `make install` "
            "(it installs promptsource==0.2.3 with --no-deps --ignore-requires-python)."
        ) from None
    return templates


@lru_cache(maxsize=None)
def dataset_templates(dataset: str, subset: str | None) -> Any:
    """promptsource's ``DatasetTemplates`` of one dataset (and subset); one clear error when it has none."""
    module = _promptsource()
    collection = module.DatasetTemplates(dataset, subset)
    if not collection.all_template_names:
        what = f"{dataset}/{subset}" if subset else dataset
        raise DataError(
            f"promptsource has no templates for dataset '{what}' (looked in {collection.folder_path}). "
            "Check the dataset and subset names against promptsource's templates folder."
        )
    return collection


def select_templates(dataset: str, subset: str | None, include: str | tuple[str, ...], ignore: tuple[str, ...] = ()) -> list[Any]:
    """The templates the original selects: ``include`` = "all", "original" or a tuple of names; minus ``ignore``."""
    collection = dataset_templates(dataset, subset)
    names = collection.all_template_names
    what = f"{dataset}/{subset}" if subset else dataset
    asked = set(ignore) | (set(include) if not isinstance(include, str) else set())
    unknown = sorted(asked - set(names))
    if unknown:
        raise DataError(f"promptsource dataset '{what}' has no template named {unknown}. Its templates: {names}.")
    if include == "all":
        chosen = [n for n in names if n not in ignore]
    elif include == "original":
        chosen = [n for n in names if collection[n].metadata.original_task and n not in ignore]
    elif isinstance(include, str):
        raise ConfigError(f"include must be 'all', 'original' or a list of template names, got '{include}'.")
    else:
        chosen = [n for n in names if n in include and n not in ignore]
    if not chosen:
        raise DataError(f"No promptsource template of '{what}' is left (include={include!r}, ignore={list(ignore)}).")
    return [collection[n] for n in chosen]


@lru_cache(maxsize=None)
def _fields(jinja: str) -> frozenset[str]:
    from jinja2 import meta

    env = _promptsource().env
    return frozenset(meta.find_undeclared_variables(env.parse(jinja))) - RESERVED


def template_fields(template: Any) -> frozenset[str]:
    """The row fields a promptsource template (prompt and answer choices) reads."""
    return _fields(template.jinja) | (_fields(template.answer_choices) if template.answer_choices else frozenset())


@dataclass(frozen=True)
class PromptTemplate:
    """One promptsource template as a row renderer: (source, target, answer choices, label, references)."""

    template: Any
    task: str
    references: References | None = None

    @property
    def name(self) -> str:
        return str(self.template.name)

    def __call__(self, row: dict[str, Any]) -> Rendered | None:
        missing = sorted(template_fields(self.template) - set(row))
        if missing:
            raise DataError(
                f"Task '{self.task}': promptsource template '{self.name}' reads field(s) {missing}, which the row lacks "
                f"(row fields: {sorted(row)}). Rows must keep the schema of the task's hub dataset."
            )
        label = row.get("label")
        if isinstance(label, int) and not isinstance(label, bool) and label < 0:
            return None  # a hidden test label (-1): jinja would index the answer choices from the end
        parts = self.template.apply(row)
        if len(parts) != 2 or not parts[1]:
            return None  # the template renders no answer for this row (e.g. a hidden test label)
        source, target = parts
        choices = tuple(self.template.get_answer_choices_list(row) or ())
        references = self.references(row, target) if self.references else ()
        if choices:
            return Rendered(source=source, target=target, choices=choices, label=find_label(target, choices), references=references)
        return Rendered(source=source, target=target, references=references)
