"""Practice: buyer role-play from persona files, scored by a code-decided rubric (issue 15 part 2)."""
