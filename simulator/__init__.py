"""The provider simulator: our own OpenAI- and Anthropic-compatible upstream.

It is the upstream in the demo (when no real provider key is set) and in tests, benchmarks
and fault drills. `app.py` is a plain ASGI application with no Django import;
`manage.py run_simulator` serves it (see `serve.py`).
"""
