#pragma once
// Small text helpers for messages: the closest known word, for "did you mean".
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlrepo::util {

// The last non-blank line of a program's output, for one-line error messages.
std::string last_line(std::string_view text);

// Levenshtein distance: insertions, deletions and substitutions.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` within `max_distance` edits (ties: the
// first), or nullopt.
std::optional<std::string> closest(std::string_view word, const std::vector<std::string>& candidates,
                                   size_t max_distance);

// "did you mean 'X'?" for the candidate within 3 edits of `word`, else
// `otherwise` (what to do instead: where the valid names are listed).
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates,
                         const std::string& otherwise);
// Names joined by ", " for a message; "none" when there are none.
std::string listed(const std::vector<std::string>& names);

// Words as a POSIX shell splits them, with its quoting ('...', "...", \)
// and nothing else: no variables, globs or commands. Throws
// std::invalid_argument on an unclosed quote.
std::vector<std::string> split_words(std::string_view text);

// RFC 1123 names as Kubernetes checks them: a label (lower-case letters,
// digits and '-', alphanumeric at both ends, at most 63) and a subdomain
// (labels joined by '.', at most 253).
bool is_dns_label(std::string_view s);
bool is_dns_subdomain(std::string_view s);

} // namespace mlrepo::util
