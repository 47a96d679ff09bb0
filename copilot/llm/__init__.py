"""LLM mode: the one place that talks to a chat model (langchain / openai are imported only here).

- `model`: builds the chat model from Settings (provider presets, API key order);
- `runner`: runs a skill through the model with structured output, checks, retries
  and the offline fallback; `stream_llm_text` streams plain text;
- `usage`: tokens, estimated cost and latency; `fake`: a scripted chat model for tests.

Heavy libraries are imported lazily inside functions so `import copilot` stays fast.
"""
