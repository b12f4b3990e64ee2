"""Stand-ins for the outside services tests may not call: fake LLM APIs on 127.0.0.1."""
