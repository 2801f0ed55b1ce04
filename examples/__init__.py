"""Runnable samples; the how-to pages under docs/howto/ show them verbatim."""
