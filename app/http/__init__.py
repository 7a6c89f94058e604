"""The HTTP side of `helpdesk serve`: one Starlette app (health, readiness, metrics; later webhooks) on uvicorn."""
