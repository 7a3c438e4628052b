"""Returning the C heap's free pages to the system, before the zygote is forked."""

from __future__ import annotations

import ctypes


def release_free_heap() -> None:
    """Give the C heap's free pages back (glibc's malloc_trim): loading the user's code and
    converting it free more than serving allocates again, and a page still held when the
    zygote is forked is held by both processes. Nothing where there is no glibc."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)
