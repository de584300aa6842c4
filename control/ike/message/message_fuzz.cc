// libFuzzer target: parse_message and parse_payload_chain over any bytes, and
// build(parse(x)) must parse back to the same structure. Built only with clang
// (see meson.build).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "control/ike/message/fuzz_properties.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const auto check = traverse::ike::fuzzing::check_message({data, size});
  if (!check.violation.empty()) {
    std::fprintf(stderr, "property violated: %s\n", check.violation.c_str());
    std::abort();
  }
  return 0;
}
