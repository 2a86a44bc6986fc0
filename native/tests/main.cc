// Runs every registered native test case; exit status 1 on any failure.
// Usage: fathom_native_tests [substring-filter]
#include <cstring>
#include <iostream>

#include "test.h"

namespace fathom_test {

std::vector<Case>& registry() {
  static std::vector<Case> r;
  return r;
}
int& failures() {
  static int n = 0;
  return n;
}
Failure::~Failure() {
  ++failures();
  if (failures() <= 50) std::cerr << "  " << file << ":" << line << ": " << msg.str() << "\n";
}

}  // namespace fathom_test

int main(int argc, char** argv) {
  using namespace fathom_test;
  int passed = 0, failed = 0, skipped = 0;
  for (auto& c : registry()) {
    if (argc > 1 && !std::strstr(c.name, argv[1])) continue;
    const int before = failures();
    try {
      c.fn();
    } catch (const Skip& s) {
      std::cout << "SKIP " << c.name << " (" << s.why << ")\n";
      ++skipped;
      continue;
    }
    if (failures() == before) {
      ++passed;
      std::cout << "ok   " << c.name << "\n";
    } else {
      ++failed;
      std::cout << "FAIL " << c.name << "\n";
    }
  }
  std::cout << passed << " passed, " << failed << " failed, " << skipped << " skipped\n";
  return failed ? 1 : 0;
}
