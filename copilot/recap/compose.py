"""From extracted items to the recap result: the proposed updated deal as a diff, the follow-up email, the text.

Only firm values change the deal: new pains and goals are added, new constraints are added, and a
firm constraint of the same kind as an existing one (budget, timeline…, read by the shared constraint
classifier) replaces it. Hedged values never reach the deal. New buyer-side people join the audience.
"""

from __future__ import annotations

from typing import Any

from copilot.deal import Deal, deal_from_data
from copilot.knowledge import KnowledgeBase
from copilot.privacy import Redactor
from copilot.recap.models import DealChange, RecapResult
from copilot.results import Notice
from copilot.skills.figures import number_bank
from copilot.text.numbers import find_dates, find_figures
from copilot.wording import Wording

REPLACEABLE = ("budget", "timeline")
"""Constraint kinds with one current value: a firm new one replaces the old one."""


def _kind(kb: KnowledgeBase, text: str) -> str | None:
    found = kb.understanding.classify("constraints", text)
    return None if found.unsure else found.label


def updated_deal(kb: KnowledgeBase, deal: Deal, result: RecapResult) -> tuple[dict[str, Any], list[DealChange]]:
    """The deal data with the recap's firm values applied, and the changes (validated as a Deal)."""
    data = deal.model_dump(mode="json", exclude_none=True)
    changes: list[DealChange] = []
    for field, items in (("pains", result.pains), ("goals", result.goals)):
        current: list[str] = list(data.get(field, []))
        for item in items:
            if item.text not in current:
                current.append(item.text)
                changes.append(DealChange(field=field, change="added", after=item.text))
        data[field] = current
    sentences = [text for text, _ in deal.constraints.declared()]
    kinds = {text: kind or _kind(kb, text) for text, kind in deal.constraints.declared()}
    for item in result.constraints:
        kind = _kind(kb, item.text)
        has_value = bool(find_figures(item.text) or find_dates(item.text))  # "预算" alone changes no budget
        old = next((t for t in sentences if has_value and kind in REPLACEABLE and kinds.get(t) == kind), None)
        if old is not None:
            sentences[sentences.index(old)] = item.text
            changes.append(DealChange(field=f"constraints.{kind}", change="replaced", before=old, after=item.text))
        elif item.text not in sentences:
            sentences.append(item.text)
            changes.append(DealChange(field="constraints", change="added", after=item.text))
    data["constraints"] = sentences
    audience: list[str] = list(data.get("audience", []))
    for person in result.stakeholders:
        label = f"{person.name}（{person.role}）" if person.role and deal.lang == "zh" else person.name
        label = f"{person.name} ({person.role})" if person.role and deal.lang != "zh" else label
        if not any(person.name in a for a in audience):
            audience.append(label)
            changes.append(DealChange(field="audience", change="added", after=label))
    data["audience"] = audience
    deal_from_data(data, "updated deal")  # the proposal must itself be a valid deal
    return data, changes


def follow_up_email(result: RecapResult, deal: Deal) -> str:
    """The email to the buyer: thanks, what was agreed, who does what by when, the next step."""
    w = Wording("recap", deal.lang)
    lines = [w("email.subject", customer=deal.who()), "", w("email.greeting", customer=deal.who()), ""]
    lines.append(w("email.thanks"))
    if result.decisions:
        lines += ["", w("email.agreed")] + [w("email.bullet", text=d.text) for d in result.decisions]
    if result.commitments:
        lines += ["", w("email.actions")]
        for c in result.commitments:
            action = c.action.rstrip("。；;.， ")
            key = "email.action_due" if c.due and c.due not in action else "email.action"
            lines.append(w(key, text=action, due=c.due or ""))
    lines += ["", w("email.next", next=result.next_meeting.text) if result.next_meeting else w("email.next_none")]
    lines += ["", w("email.closing")]
    return "\n".join(lines)


def checked_email(
    model: Any, email: str, notes: str, deal: Deal, redactor: Redactor | None = None
) -> tuple[str, list[Notice], bool]:
    """In LLM mode the model may rewrite the email; a reply with a figure found in neither notes nor deal is refused."""
    w = Wording("recap", deal.lang)
    from copilot.llm.text_reply import text_reply

    try:
        text = text_reply(model, w("llm.system"), w("llm.user", email=email), redactor)
    except Exception:  # any model failure: the offline email, with a notice
        return email, [Notice(kind="fallback", message=w("notice.llm_error"))], False
    bank = number_bank([notes, deal.text(), email])
    if not text or any(not bank.has_figure(f) for f in find_figures(text)):
        return email, [Notice(kind="fallback", message=w("notice.llm_numbers"))], False
    return text, [], True


def render_recap(result: RecapResult) -> str:
    w = Wording("recap", result.language)
    out = [f"## {w('render.title', customer=result.customer)}"]

    def section(key: str, rows: list[str]) -> None:
        if rows:
            out.extend(["", f"### {w(f'render.{key}')}", *rows])

    section("decisions", [w("render.item", text=i.text, confidence=i.confidence) for i in result.decisions])
    section("pains", [w("render.item", text=i.text, confidence=i.confidence) for i in result.pains])
    section("goals", [w("render.item", text=i.text, confidence=i.confidence) for i in result.goals])
    section("constraints", [w("render.item", text=i.text, confidence=i.confidence) for i in result.constraints])
    section("stakeholders", [w("render.person", name=p.name, role=p.role or "-") for p in result.stakeholders])
    section(
        "objections",
        [w("render.objection", text=o.text, concern=o.concern or "-") for o in result.objections],
    )
    section(
        "commitments",
        [w("render.commitment", owner=c.owner or "?", action=c.action, due=c.due or "-") for c in result.commitments],
    )
    section("open_questions", [w("render.item", text=i.text, confidence=i.confidence) for i in result.open_questions])
    section("hedged", [w("render.hedged_row", field=h.field, text=h.text) for h in result.hedged])
    if result.next_meeting:
        section("next_meeting", [w("render.bullet", text=result.next_meeting.text)])
    changes = [
        w("render.replaced", field=c.field, before=c.before or "", after=c.after)
        if c.change == "replaced"
        else w("render.added", field=c.field, after=c.after)
        for c in result.changes
    ]
    section("changes", changes or [w("render.no_changes")])
    section("email", [result.email])
    return "\n".join(out)
