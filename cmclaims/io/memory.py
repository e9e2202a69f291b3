"""The allocators of a night's run: fresh pages are dear, and the run must stay within its memory budget.

A run allocates and frees hundreds of short-lived whole-column arrays (a 5M-line
int64 column is 40 MB). On a virtual machine a page the process has not touched
before is dear: the kernel zeroes it and the host may have to back it first. On
the 2-core bench machine a realistic 5M-line night spent as much system time
touching fresh pages (12 to 23 s) as it spent computing. So each stage reuses the
memory the last one freed, and what a stage leaves is handed back only between
stages:

- numpy's arrays come from the C library's malloc. glibc maps every block over
  32 MB on its own and unmaps it when freed, so the next 40 MB column faults
  in fresh pages again. `use_batch_allocators` makes glibc carve every block
  from its heap and keep up to 1 GiB of freed heap for reuse (`mallopt`; glibc
  only, elsewhere nothing changes): a 5M-line night 20.5 s -> 18 s, 2.6M -> 1.2M
  page faults. A stage's heap grows by what it frees and cannot reuse, so the
  results the rules of a stage share are dropped when it ends
  (`Context.forget_shared`): the peak stayed at 1.8 to 1.9 GiB.
- numpy asks for transparent huge pages on its large arrays. Each first touch
  then zeroes 2 MB and may wait for the kernel to compact memory: 32 s -> 21 s
  for the same night without them.
- pyarrow's default allocator (mimalloc) keeps freed memory for reuse, so the
  resident size of a run only grows. jemalloc, told to hand freed pages back
  after a second, lowers a 5M-line night's peak by several hundred MB at no
  measurable cost in time. Where the wheel has no jemalloc, the default stays.

Between the stages of a run, `give_back_freed` returns what the last stage
freed (the C library's heap and Arrow's pool) before the next one allocates.
"""

from __future__ import annotations

import ctypes

import pyarrow as pa

_M_TRIM_THRESHOLD = -1  # <malloc.h>: free heap kept at the top before glibc returns it
_M_MMAP_MAX = -4  # <malloc.h>: how many blocks glibc may map on their own
_KEPT_FREE = 1 << 30


def use_batch_allocators() -> None:
    """The allocators a night's run is measured with (see the module's docstring)."""
    _reuse_the_heap()
    _use_small_pages_for_arrays()
    _use_returning_arrow_allocator()


def give_back_freed() -> None:
    """Return the memory freed so far to the operating system, between two stages of a run.

    `malloc_trim` hands the heap's free pages back, wherever they lie (glibc
    only; elsewhere nothing happens); Arrow's pool is asked to do the same.
    Without it a stage's temporaries would stay resident under the next stage's
    peak.
    """
    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _reuse_the_heap() -> None:
    """glibc: every block from the heap, and up to 1 GiB of freed heap kept for the next block."""
    if _LIBC is not None:
        _LIBC.mallopt(_M_MMAP_MAX, 0)
        _LIBC.mallopt(_M_TRIM_THRESHOLD, _KEPT_FREE)


def _use_small_pages_for_arrays() -> None:
    """Stop numpy from asking for transparent huge pages; a no-op where it cannot."""
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy 1.x keeps it in numpy.core
        from numpy.core import multiarray  # type: ignore[no-redef]
    setter = getattr(multiarray, "_set_madvise_hugepage", None)
    if setter is not None:
        setter(False)


def _use_returning_arrow_allocator() -> None:
    """Make Arrow allocate with jemalloc and return freed pages after a second."""
    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(1000)
    except (NotImplementedError, pa.ArrowNotImplementedError):
        return
    pa.set_memory_pool(pool)


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 (only glibc has them)
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _glibc()
