"""`python -m copilot.corpus [DIR]`: validate a corpus directory and print its problems."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from copilot.corpus.loader import load_corpus
from copilot.corpus.references import check_references


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path("corpus")
    result = load_corpus(root)
    problems = sorted(result.problems + check_references(result.documents))
    for problem in problems:
        print(problem)
    counts = Counter(d.type for d in result.documents)
    print(
        f"{len(result.documents)} valid documents ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}); "
        f"{len(problems)} problems"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
