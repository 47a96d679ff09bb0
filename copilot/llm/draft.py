"""What the model fills in: a "draft" of a result, and how a draft becomes a full result.

A skill's result class (copilot.results) carries fields the model must not
write: skill, language, mode, text, citations, notices and usage. The draft
model has the skill-specific fields only (nested results, as in BriefResult,
become drafts too) plus `cited`: the ids of the passages it used ("C1", …).
The runner turns those ids into Grounding citations, so a citation can only
point to a passage retrieved for this request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic.fields import FieldInfo

from copilot.results import Citation, SkillResult

BASE_FIELDS = frozenset(SkillResult.model_fields)
R = TypeVar("R", bound=SkillResult)
CITED_DESCRIPTION = 'ids of the passages this answer relies on, exactly as given, e.g. ["C1", "C3"]'


def _skill_result_class(annotation: Any) -> tuple[type[SkillResult] | None, bool]:
    """(the SkillResult subclass in `annotation`, whether it is a list of them)."""
    if isinstance(annotation, type) and issubclass(annotation, SkillResult):
        return annotation, False
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        if isinstance(item, type) and issubclass(item, SkillResult):
            return item, True
    return None, False


def _draft_annotation(annotation: Any) -> Any:
    sub, is_list = _skill_result_class(annotation)
    if sub is None:
        return annotation
    return list[draft_model(sub)] if is_list else draft_model(sub)  # type: ignore[misc]


def _by_code(info: FieldInfo) -> bool:
    """A field decided by code (e.g. the brief's deal health): never the model's to write."""
    extra = info.json_schema_extra
    return isinstance(extra, dict) and extra.get("by_code") is True


def by_code_fields(result_cls: type[SkillResult]) -> tuple[str, ...]:
    """The fields of `result_cls` decided by code: in LLM mode the runner copies them from the offline result."""
    return tuple(name for name, info in result_cls.model_fields.items() if _by_code(info))


def keep_decided(result: R, offline: R) -> tuple[R, bool]:
    """`result` with the fields code decides copied from `offline`, nested results' (the brief's fit) too.

    Also says whether any of those fields holds something (their citations then come along).
    """
    update: dict[str, Any] = {name: getattr(offline, name) for name in by_code_fields(type(result))}
    found = any(update.values())
    for name, info in type(result).model_fields.items():
        sub, is_list = _skill_result_class(info.annotation)
        mine, theirs = getattr(result, name), getattr(offline, name)
        if sub is None or is_list or name in update or mine is None or theirs is None or not by_code_fields(sub):
            continue
        update[name], nested = keep_decided(mine, theirs)
        found = found or nested
    return result.model_copy(update=update), found


@cache
def draft_model(result_cls: type[SkillResult]) -> type[BaseModel]:
    """The pydantic model the LLM is asked to produce for `result_cls`."""
    fields: dict[str, Any] = {}
    for name, info in result_cls.model_fields.items():
        if name in BASE_FIELDS or _by_code(info):
            continue
        annotation = _draft_annotation(info.annotation)
        fields[name] = (annotation, FieldInfo.merge_field_infos(info, annotation=annotation))
    fields["cited"] = (list[str], Field(description=CITED_DESCRIPTION))
    return create_model(
        f"{result_cls.__name__.removesuffix('Result')}Draft", __config__=ConfigDict(extra="forbid"), **fields
    )


# -- schema hint ----------------------------------------------------------------------------------
def _describe(schema: dict[str, Any], defs: dict[str, Any], indent: int) -> list[str]:
    lines: list[str] = []
    for name, prop in schema.get("properties", {}).items():
        kind, nested = _kind(prop, defs)
        note = f" — {prop['description']}" if prop.get("description") else ""
        lines.append(f"{'  ' * indent}- {name}: {kind}{note}")
        if nested is not None:
            lines += _describe(nested, defs, indent + 1)
    return lines


def _kind(prop: dict[str, Any], defs: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    if "$ref" in prop:
        target = defs[prop["$ref"].split("/")[-1]]
        return "object", target
    if "anyOf" in prop:
        options = [o for o in prop["anyOf"] if o.get("type") != "null"]
        kind, nested = _kind(options[0], defs) if options else ("null", None)
        return f"{kind} or null", nested
    if "enum" in prop:
        return "one of " + ", ".join(json.dumps(v, ensure_ascii=False) for v in prop["enum"]), None
    if "const" in prop:
        return json.dumps(prop["const"], ensure_ascii=False), None
    kind = str(prop.get("type", "any"))
    if kind == "array":
        item_kind, nested = _kind(prop.get("items", {}), defs)
        bounds = f", at least {prop['minItems']}" if "minItems" in prop else ""
        return f"list of {item_kind}{bounds}", nested
    if kind == "integer" and "minimum" in prop and "maximum" in prop:
        return f"integer from {prop['minimum']} to {prop['maximum']}", None
    if kind == "integer" and "minimum" in prop:
        return f"integer ≥ {prop['minimum']}", None
    return kind, None


@cache
def draft_schema_json(draft_cls: type[BaseModel]) -> str:
    """The draft's JSON schema as sent with a structured-output request (built once per draft class)."""
    return json.dumps(draft_cls.model_json_schema())


@cache
def schema_hint(draft_cls: type[BaseModel]) -> str:
    """The fields to fill, as an indented list (language-neutral: field names are the JSON keys).

    Built once per draft class (draft classes are themselves built once, see `draft_model`).
    """
    schema = draft_cls.model_json_schema()
    return "\n".join(_describe(schema, schema.get("$defs", {}), 0))


# -- draft -> result ------------------------------------------------------------------------------
CiteFn = Callable[[str], Citation | None]


def _complete(
    cls: type[SkillResult], data: dict[str, Any], lang: str, cite: CiteFn, problems: list[str]
) -> tuple[dict[str, Any], list[Citation]]:
    """The result fields for `data` (a dumped draft), and every citation made in it (nested ones too)."""
    out: dict[str, Any] = {}
    everything: list[Citation] = []
    for name, info in cls.model_fields.items():
        if name in BASE_FIELDS or name not in data:
            continue
        sub, is_list = _skill_result_class(info.annotation)
        value = data[name]
        if sub is not None and value is not None:
            items = value if is_list else [value]
            done = []
            for item in items:
                fields, cited = _complete(sub, item, lang, cite, problems)
                own = _citations(item.get("cited", []), cite, problems)
                done.append({**fields, "language": lang, "mode": "llm", "citations": own})
                everything += own + cited
            out[name] = done if is_list else done[0]
        else:
            out[name] = value
    return out, everything


def _citations(ids: list[str], cite: CiteFn, problems: list[str]) -> list[Citation]:
    citations: list[Citation] = []
    for raw in ids:
        pid = raw.strip().strip("[]").strip().upper()
        citation = cite(pid)
        if citation is None:
            problems.append(f"the passage id {raw!r} is not one of the passages given")
        elif citation not in citations:
            citations.append(citation)
    return citations


def _unique(citations: list[Citation]) -> list[Citation]:
    seen: set[str] = set()
    out = []
    for c in citations:
        if c.chunk_id not in seen:
            seen.add(c.chunk_id)
            out.append(c)
    return out


def result_from_draft(result_cls: type[R], draft: BaseModel, *, lang: str, cite: CiteFn) -> tuple[R | None, list[str]]:
    """The full result (mode "llm", text still empty) and the problems found on the way."""
    data = draft.model_dump()
    problems: list[str] = []
    fields, nested = _complete(result_cls, data, lang, cite, problems)
    own = _citations(data.get("cited", []), cite, problems)
    try:
        result = result_cls.model_validate(
            {**fields, "language": lang, "mode": "llm", "citations": _unique(own + nested)}
        )
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "result"
            problems.append(f"{where}: {err['msg']}")
        return None, problems
    return result, problems
