// Giving free heap memory back to the OS during long runs (glibc).
//
// Tensor data lives in ArrayBuffer backing stores that Node allocates with
// malloc and that V8 frees in bulk, one scavenge at a time: between two
// scavenges the dead tensors of ~1000 small training steps (up to ~35 MB)
// wait in malloc's main heap. When a GC runs late (a busy machine), the heap
// reaches a new high-water mark; the dead blocks are freed afterwards, but
// glibc returns memory to the OS only from the top of the heap, and blocks
// allocated later sit above the free space: the RSS keeps each new
// high-water mark for good (measured: the main heap 37 -> 50 -> 71 MB in
// steps over 1 M steps, RSS 116 -> 151 MB, while V8 saw nothing grow).
//
// release_free_memory() calls malloc_trim(0), which also returns the free
// pages in the middle of the heap, at most once every 2 seconds; the binding
// calls it on every call (one clock read when it is not due). Cost measured
// at under a millisecond per trim; the pages are faulted in again only if
// the heap grows back into them.
//
// Off when FATHOM_MALLOC_TRIM=0, and on anything but glibc.
#pragma once

namespace fathom {

void release_free_memory();

}  // namespace fathom
