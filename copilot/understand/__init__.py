"""Text understanding: one classifier (copilot.understand.classifier) over labelled example sets."""

from copilot.understand.classifier import Classification, ClassifierParams, TextClassifier
from copilot.understand.hub import Understanding

__all__ = ["Classification", "ClassifierParams", "TextClassifier", "Understanding"]
