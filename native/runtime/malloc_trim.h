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
// malloc_trim(0) also returns the free pages in the middle of the heap. The
// binding calls release_free_memory() on every call: it only flags activity
// (one relaxed atomic store; the first call starts the thread). A background
// thread trims every 2 seconds if there was activity since the last round,
// so the trim (milliseconds on a large heap) never runs inside a kernel call;
// the pages are faulted in again only if the heap grows back into them.
//
// Off when FATHOM_MALLOC_TRIM=0, and on anything but glibc.
#pragma once

namespace fathom {

void release_free_memory();

}  // namespace fathom
