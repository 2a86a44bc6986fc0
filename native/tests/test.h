// A minimal test registry for the native kernel tests (no dependencies).
// TEST(name) { ... CHECK(cond) << "context"; ... }  -- see main.cc.
#pragma once
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace fathom_test {

struct Case {
  const char* name;
  std::function<void()> fn;
};
std::vector<Case>& registry();
struct Register {
  Register(const char* name, std::function<void()> fn) { registry().push_back({name, std::move(fn)}); }
};

// Failure sink: counts failures of the current case and prints the message.
struct Failure {
  std::ostringstream msg;
  const char* file;
  int line;
  Failure(const char* f, int l, const char* expr) : file(f), line(l) { msg << expr << " "; }
  ~Failure();
  template <class T>
  Failure& operator<<(const T& v) {
    msg << v;
    return *this;
  }
};
int& failures();
// Skips the rest of the current case (e.g. the CPU lacks an ISA).
struct Skip {
  std::string why;
};

}  // namespace fathom_test

#define FATHOM_CAT2(a, b) a##b
#define FATHOM_CAT(a, b) FATHOM_CAT2(a, b)
#define TEST(name)                                                                  \
  static void FATHOM_CAT(test_, name)();                                            \
  static ::fathom_test::Register FATHOM_CAT(reg_, name)(#name, FATHOM_CAT(test_, name)); \
  static void FATHOM_CAT(test_, name)()
#define CHECK(cond) \
  if (cond) {       \
  } else            \
    ::fathom_test::Failure(__FILE__, __LINE__, "CHECK(" #cond ") failed:")
#define SKIP(why) throw ::fathom_test::Skip{why}
