"""Our own offering: the vendor profile the rep sells from.

A profile (YAML, `NEGO_HOME/vendor.yaml` or `--vendor FILE`) says what we sell: company, product,
platform, deployment options, certifications and filings, integrations, capabilities, what is not
offered, reference customers with their outcomes, and pricing notes. Numbers in it count as input
(the rep vouches for them, like the deal's own). The copilot never claims a capability the
profile does not list; a deal need the profile does not cover is a vendor gap (copilot.reading).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from copilot.corpus.yaml_lines import YamlSyntaxError, compose, construct, line_of
from copilot.vocabulary import ScenarioKey

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
MAX_ITEMS = 60
MAX_PROFILE_BYTES = 500_000


class VendorError(ValueError):
    """A vendor profile is invalid; the message names the file, line or field."""


class Reference(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    customer: Text
    scenario: ScenarioKey | None = None
    industry: Text | None = None
    outcome: Text
    year: int | None = Field(default=None, ge=1990, le=2100)
    public: bool = Field(default=True, description="false: may be named to the rep only, not to the buyer")


class VendorProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    company: Text
    product: Text
    platform: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS, description="stack, chain framework")
    deployment: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS)
    certifications: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS)
    integrations: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS)
    capabilities: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS)
    not_offered: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS)
    references: list[Reference] = Field(default_factory=list, max_length=MAX_ITEMS)
    pricing_notes: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS)

    def text(self) -> str:
        """Every word of the profile: its numbers may be shown like the deal's own."""
        parts = [self.company, self.product, *self.platform, *self.deployment, *self.certifications]
        parts += [*self.integrations, *self.capabilities, *self.not_offered, *self.pricing_notes]
        for ref in self.references:
            parts += [ref.customer, ref.industry or "", ref.outcome, str(ref.year or "")]
        return "\n".join(p for p in parts if p)


def _field_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (("." if out else "") + str(part))
    return out or "profile"


def vendor_from_data(data: Any, origin: str, node: Any = None) -> VendorProfile:
    """The profile in `data`; `node` (its composed YAML) lets an error name the line of the field."""
    if not isinstance(data, dict):
        raise VendorError(f"{origin}: a vendor profile is a mapping of fields (company, product, …)")
    try:
        return VendorProfile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        message = "unknown field" if err["type"] == "extra_forbidden" else str(err["msg"])
        more = f" (and {len(exc.errors()) - 1} more problem(s))" if len(exc.errors()) > 1 else ""
        where = f"{origin}:{line_of(node, tuple(err['loc']))}" if node is not None else origin
        raise VendorError(f"{where}: {_field_path(tuple(err['loc']))}: {message}{more}") from exc


def vendor_from_text(text: str, origin: str) -> VendorProfile:
    """The profile written in `text` (YAML); an error names `origin`, the line and the field."""
    if len(text.encode("utf-8")) > MAX_PROFILE_BYTES:
        raise VendorError(f"{origin}: too large for a vendor profile (limit {MAX_PROFILE_BYTES:,} bytes)")
    try:
        node = compose(text)
        data = None if node is None else construct(node)
    except YamlSyntaxError as exc:
        raise VendorError(f"{origin}:{exc.line}: {exc.message}") from exc
    return vendor_from_data(data, origin, node)


def load_vendor(path: Path) -> VendorProfile:
    """The profile in `path` (YAML); every problem names the file and field (and line for syntax)."""
    if not path.is_file():
        raise VendorError(f"{path}: vendor profile not found")
    if path.stat().st_size > MAX_PROFILE_BYTES:
        raise VendorError(f"{path}: too large for a vendor profile (limit {MAX_PROFILE_BYTES:,} bytes)")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise VendorError(f"{path}: not valid UTF-8: save it as UTF-8") from exc
    return vendor_from_text(text, str(path))


def default_vendor_path(home: Path) -> Path:
    return home / "vendor.yaml"


def save_vendor(text: str, path: Path) -> VendorProfile:
    """Check `text` as a profile, then write it to `path` atomically: a bad edit never replaces a good profile."""
    profile = vendor_from_text(text, path.name)
    from copilot.export import write_atomic

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    write_atomic(path, write)
    return profile
