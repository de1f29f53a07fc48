// The test binaries' main: Catch2's, with every test case required to make
// at least one assertion. A test that returns early (say, "nothing to test
// on this machine") without asserting the other branch fails instead of
// passing silently. Catch2 v2 takes one -w on the command line, which ctest
// spends on NoTests (tests/CMakeLists.txt); this adds NoAssertions beside it.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

int main(int argc, char* argv[]) {
  Catch::Session session;
  int rc = session.applyCommandLine(argc, argv);
  if (rc != 0)
    return rc;
  auto& data = session.configData();
  data.warnings = static_cast<Catch::WarnAbout::What>(data.warnings | Catch::WarnAbout::NoAssertions);
  return session.run();
}
