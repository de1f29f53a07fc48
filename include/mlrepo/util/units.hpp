#pragma once
// Durations ("90s", "45m", "2h", "1h30m") and Kubernetes resource
// quantities ("500m", "1.5", "8Gi"), read strictly: a malformed value throws
// std::invalid_argument saying what a valid one looks like.
#include <cstdint>
#include <string>

namespace mlrepo::util {

// Seconds; above zero.
std::int64_t parse_duration(const std::string& text);
// "2h", "1h30m", "45s": the shortest spelling of a duration.
std::string format_duration(std::int64_t seconds);

// A quantity scaled by 1000 ("500m" -> 500, "2" -> 2000, "1Ki" -> 1024000):
// exact for every value with at most milli precision.
struct Quantity {
  std::string text;
  std::int64_t milli = 0;
};
Quantity parse_quantity(const std::string& text);

} // namespace mlrepo::util
