"""The former `Sourcer`: now the one citation helper `copilot.skills.passages.Cited` (same methods).

Kept so skills written against the old name keep working; new code uses `Cited(g, input_text)`.
"""

from __future__ import annotations

from copilot.skills.passages import Cited

Sourcer = Cited

__all__ = ["Sourcer"]
