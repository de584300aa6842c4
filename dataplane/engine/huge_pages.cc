#include "dataplane/engine/huge_pages.hh"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace traverse::engine {
namespace {

constexpr const char* kTunable = "glibc.malloc.hugetlb=1";

// "[never]" in the kernel's THP mode means madvise cannot help.
bool kernel_allows_thp() {
  std::ifstream mode("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  return std::getline(mode, line) && line.find("[never]") == std::string::npos;
}

}  // namespace

void reexec_with_huge_page_heap(char** argv) {
  const char* opt_out = std::getenv("TRAVERSE_HEAP_THP");
  if (opt_out != nullptr && std::strcmp(opt_out, "0") == 0) {
    return;
  }
  const char* current = std::getenv("GLIBC_TUNABLES");
  const std::string tunables = current != nullptr ? current : "";
  // Present already (our own re-exec, or the operator chose a value): done.
  if (tunables.find("glibc.malloc.hugetlb") != std::string::npos || !kernel_allows_thp()) {
    return;
  }
  const std::string wanted = tunables.empty() ? kTunable : tunables + ":" + kTunable;
  if (setenv("GLIBC_TUNABLES", wanted.c_str(), 1) != 0) {
    return;
  }
  // By its real path, so the process keeps its name (not "exe").
  char path[4096];
  const ssize_t length = readlink("/proc/self/exe", path, sizeof path - 1);
  if (length > 0) {
    path[length] = '\0';
    execv(path, argv);
  }
  // exec failed (no /proc): run on as we are, without the tunable's promise.
  if (current != nullptr) {
    setenv("GLIBC_TUNABLES", current, 1);
  } else {
    unsetenv("GLIBC_TUNABLES");
  }
}

}  // namespace traverse::engine
