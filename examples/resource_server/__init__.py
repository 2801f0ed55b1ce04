"""A small notes API protected by tokenpath access tokens, once per framework."""
