// Transparent huge pages for the dataplane's C++ heap, where per-SA state
// lives (SA entries, their ESP state and crypto keys). At 100,000 SAs that
// state spans hundreds of megabytes: on 4 KB pages nearly every packet's SA
// reads miss the TLB, on 2 MB pages few do (+12-20% at 64 bytes, measured).
// The EAL's own memory needs no help on real hosts (hugetlbfs); under
// --no-huge it is a memfd, which follows the kernel's shmem THP setting.
#pragma once

#include <string>

namespace traverse::engine {

// Asks glibc to back the C++ heap (SA entries, their ESP state and crypto
// keys) with transparent huge pages: glibc reads the glibc.malloc.hugetlb
// tunable only at start-up, so this re-executes the program once with it
// set. Returns only if it did not re-execute (already set, THP disabled by
// the kernel, TRAVERSE_HEAP_THP=0, or exec failed). Call first in main().
void reexec_with_huge_page_heap(char** argv);

}  // namespace traverse::engine
