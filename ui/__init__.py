"""The Gradio app (`nego ui`): a thin layer that displays what the copilot core yields.

Gradio's usage analytics are off unless the environment turns them on explicitly;
this runs before any module of the package imports gradio.
"""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
