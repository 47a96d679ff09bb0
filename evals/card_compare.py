"""Pairwise judge: what a rep carries into the room, the old brief (A) against the new prep card (B).

For each eval deal, A is the brief as it was (its whole Markdown) and B is the new card (the card
alone, rep notes apart). The comparison uses evals.pairwise (seeded order, failures counted apart)
with the judge model of an LLM-mode run; without a configured model there is no judge and no report.

    python -m evals.card_compare OLD_DIR NEW_DIR [--out REPORT.md]

OLD_DIR and NEW_DIR hold `<case>.brief.json` results (BriefResult JSON), e.g. from two checkouts.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from copilot.results import BriefResult
from copilot.settings import Settings
from copilot.skills.brief import card_markdown
from evals.judge import PairwiseResult
from evals.models import CaseResult, SkillOutput
from evals.pairwise import judge_pairs, pairwise_text_of

TASK = {
    "zh": "任务：给销售一份能带进会议室的会前准备材料（一页纸：目标、要点及依据、风险、问题、下一步）。",
    "en": "Task: give the rep a prep sheet they would carry into the meeting (one page: goal, points with proof, "
    "risks, questions, next step).",
}


def _results(briefs: dict[str, BriefResult], card: bool) -> list[CaseResult]:
    out = []
    for index, (case_id, brief) in enumerate(sorted(briefs.items())):
        text = card_markdown(brief) if card and brief.card is not None else brief.text
        output = SkillOutput(skill="brief", task=TASK[brief.language], language=brief.language, text=text)
        out.append(
            CaseResult(
                case_id=case_id, suite="skills", index=index, lang=brief.language, status="pass", outputs=[output]
            )
        )
    return out


def load_briefs(folder: Path) -> dict[str, BriefResult]:
    return {
        path.name.removesuffix(".brief.json"): BriefResult.model_validate_json(path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.brief.json"))
    }


def compare(
    settings: Settings, models: Any, old: dict[str, BriefResult], new: dict[str, BriefResult], seed: int = 0
) -> list[PairwiseResult]:
    """The judge's verdict per deal present in both: A the old brief, B the new card."""
    shared = sorted(set(old) & set(new))
    a = _results({k: old[k] for k in shared}, card=False)
    b = _results({k: new[k] for k in shared}, card=True)
    return judge_pairs(settings, models, a, b, seed=seed)


def report(results: list[PairwiseResult], judge_name: str) -> str:
    head = f"# Prep card (B) vs old brief (A), pairwise judge: {judge_name}\n\n"
    return head + pairwise_text_of(results) + "\n"


def main(argv: list[str] | None = None) -> int:
    from evals.runner import Models

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    settings = Settings()
    if settings.provider == "offline":
        print("no model is configured (NEGO_PROVIDER): the pairwise judge needs one; nothing compared")
        return 2
    from copilot.llm.model import get_chat_model

    models = Models()
    models.judge = get_chat_model(settings)
    text = report(
        compare(settings, models, load_briefs(args.old), load_briefs(args.new), args.seed), settings.model or ""
    )
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
