// The message helpers every "did you mean" in mlrepo goes through.
#include "mlrepo/util/text.hpp"

#include <catch2/catch.hpp>

using namespace mlrepo::util;

TEST_CASE("text: the nearest name within three edits, else what to do instead", "[util]") {
  std::vector<std::string> steps{"extract", "train", "evaluate"};
  CHECK(edit_distance("trian", "train") == 2);
  CHECK(closest("trian", steps, 3) == std::optional<std::string>("train"));
  CHECK_FALSE(closest("deploy", steps, 3));
  CHECK(did_you_mean("evalute", steps, "its steps: " + listed(steps)) == "did you mean 'evaluate'?");
  CHECK(did_you_mean("deploy", steps, "its steps: " + listed(steps)) == "its steps: extract, train, evaluate");
  CHECK(listed({}) == "none");
}
