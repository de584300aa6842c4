// Benchmarks of single steps of the ESP path (outer header parse, outer header
// write), to tell where the ESP core's time goes. Names: part/STEP/VARIANT.
#pragma once

namespace traverse::bench {

void register_part_benchmarks();

}  // namespace traverse::bench
