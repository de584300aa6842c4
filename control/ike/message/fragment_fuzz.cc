// libFuzzer target: a sequence of fragment adds decoded from the input (format
// in fuzz_properties.cc) must keep the reassembler within its limits and only
// complete messages whose fragments all arrived. Built only with clang.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "control/ike/message/fuzz_properties.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const auto check = traverse::ike::fuzzing::check_fragment_sequence({data, size});
  if (!check.violation.empty()) {
    std::fprintf(stderr, "property violated: %s\n", check.violation.c_str());
    std::abort();
  }
  return 0;
}
