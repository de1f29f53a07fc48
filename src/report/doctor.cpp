#include "mlrepo/report/doctor.hpp"

namespace mlrepo::report {

std::string doctor_text(const std::vector<doctor::Check>& checks) {
  std::string out;
  for (const auto& c : checks) {
    const char* tag = c.level == doctor::Level::Ok     ? "ok  "
                      : c.level == doctor::Level::Warn ? "warn"
                      : c.level == doctor::Level::Skip ? "skip"
                                                       : "FAIL";
    out += std::string(tag) + "  " + c.area + ": " + c.message + "\n";
    if (!c.fix.empty())
      out += "      fix: " + c.fix + "\n";
  }
  return out;
}

} // namespace mlrepo::report
