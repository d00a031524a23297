"""Utilities. Kept import-light: :mod:`.compat` must run before mmseg."""
