"""The web tier: the app, its pages, the HTTP API and the /ws channel."""
