"""Arrow's allocator, chosen for a long batch job that must stay within its memory budget.

pyarrow's default allocator (mimalloc) keeps freed memory for reuse, so the
resident size of a run only grows. jemalloc, told to hand freed pages back to
the operating system after a second, lowers a 5M-line night's peak by several
hundred MB at no measurable cost in time (immediate return cost about 5%).
Where the wheel has no jemalloc, the default stays.

numpy asks the kernel for transparent huge pages on its large arrays. A run
allocates and frees hundreds of short-lived 40 MB arrays; with huge pages each
first touch zeroes 2 MB and may wait for the kernel to compact memory. On the
2-core bench machine that was 23 s of system time in a 32 s realistic 5M-line
night; with ordinary pages, 12 s in 21 s, at the same peak.

Between the stages of a run, `give_back_freed` returns what the last stage
freed (Arrow's pool and the C library's heap) before the next one allocates.
"""

from __future__ import annotations

import ctypes

import pyarrow as pa


def use_returning_allocator() -> None:
    """Make Arrow allocate with jemalloc and return freed pages after a second."""
    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(1000)
    except (NotImplementedError, pa.ArrowNotImplementedError):
        return
    pa.set_memory_pool(pool)


def use_batch_allocators() -> None:
    """The allocators a night's run is measured with: Arrow's returns freed pages, numpy's arrays use small ones."""
    use_returning_allocator()
    use_small_pages_for_arrays()


def use_small_pages_for_arrays() -> None:
    """Stop numpy from asking for transparent huge pages (see the module's docstring); a no-op where it cannot."""
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy 1.x keeps it in numpy.core
        from numpy.core import multiarray  # type: ignore[no-redef]
    setter = getattr(multiarray, "_set_madvise_hugepage", None)
    if setter is not None:
        setter(False)


def give_back_freed() -> None:
    """Return the memory freed so far to the operating system, between two stages of a run.

    numpy's arrays come from the C library's malloc, which keeps freed blocks of
    up to 32 MB in its heap for reuse (its threshold for mapping a block on
    its own rises as blocks are freed): a stage's temporaries would otherwise
    stay resident under the next stage's peak. `malloc_trim` hands free heap
    pages back (glibc only; elsewhere nothing happens); Arrow's pool is asked to
    do the same.
    """
    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 (only glibc has it)
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _glibc()
