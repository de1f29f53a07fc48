#pragma once
// Base64 (RFC 4648) as docker's config.json and HTTP basic auth use it.
#include <optional>
#include <string>
#include <string_view>

namespace mlrepo::util {

std::string base64_encode(std::string_view in);
// Accepts the standard and URL-safe alphabets, with or without padding;
// nullopt for anything else.
std::optional<std::string> base64_decode(std::string_view in);

} // namespace mlrepo::util
