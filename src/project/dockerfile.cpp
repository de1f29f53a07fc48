#include "mlrepo/project/dockerfile.hpp"

#include "mlrepo/project/naming.hpp"
#include "mlrepo/util/text.hpp"

#include <algorithm>
#include <optional>
#include <set>

namespace mlrepo::project {
namespace {

using Scope = std::map<std::string, std::string>;

struct Instruction {
  std::string keyword; // upper case
  std::string args;
  int line = 0;
};

std::string_view trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos)
    return {};
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'a' && c <= 'z')
      c = static_cast<char>(c - 'a' + 'A');
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      if (start < text.size())
        lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

// Heredoc delimiters opened by an instruction (`<<EOF`, `<<-"EOF"`).
std::vector<std::pair<std::string, bool>> heredocs(std::string_view args) {
  std::vector<std::pair<std::string, bool>> out;
  for (size_t pos = args.find("<<"); pos != std::string_view::npos; pos = args.find("<<", pos + 2)) {
    size_t i = pos + 2;
    bool strip_tabs = i < args.size() && args[i] == '-';
    if (strip_tabs)
      ++i;
    char quote = (i < args.size() && (args[i] == '"' || args[i] == '\'')) ? args[i] : 0;
    if (quote)
      ++i;
    size_t start = i;
    while (i < args.size() && (std::isalnum(static_cast<unsigned char>(args[i])) || args[i] == '_'))
      ++i;
    if (i > start)
      out.emplace_back(std::string(args.substr(start, i - start)), strip_tabs);
  }
  return out;
}

std::vector<Instruction> parse_instructions(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF")
    text.remove_prefix(3); // a UTF-8 byte-order mark, which Docker skips too
  auto lines = split_lines(text);
  char escape = '\\';
  size_t i = 0;
  // Parser directives: only leading `# key=value` comment lines.
  for (; i < lines.size(); ++i) {
    auto l = trim(lines[i]);
    if (l.empty() || l[0] != '#')
      break;
    auto body = trim(l.substr(1));
    auto eq = body.find('=');
    if (eq == std::string_view::npos)
      break;
    auto key = lower(trim(body.substr(0, eq)));
    auto value = trim(body.substr(eq + 1));
    if (key == "escape" && value.size() == 1)
      escape = value[0];
    else if (key != "syntax" && key != "check")
      break;
  }
  std::vector<Instruction> out;
  std::string current;
  int start_line = 0;
  for (; i < lines.size(); ++i) {
    auto l = trim(lines[i]);
    if (current.empty()) {
      if (l.empty() || l[0] == '#')
        continue;
      start_line = static_cast<int>(i) + 1;
    } else if (l.empty() || l[0] == '#') {
      continue; // comments and blank lines inside a continuation are dropped
    }
    if (!l.empty() && l.back() == escape) {
      current.append(l.substr(0, l.size() - 1));
      current += ' ';
      continue;
    }
    current.append(l);
    auto text_view = trim(current);
    size_t sp = text_view.find_first_of(" \t");
    Instruction ins;
    ins.keyword = upper(text_view.substr(0, sp));
    ins.args = sp == std::string_view::npos ? "" : std::string(trim(text_view.substr(sp)));
    ins.line = start_line;
    // Heredoc bodies are data, not instructions.
    for (const auto& [delim, strip] : heredocs(ins.args)) {
      for (++i; i < lines.size(); ++i) {
        auto body = strip ? std::string_view(lines[i]).substr(
                                std::min(lines[i].find_first_not_of('\t'), lines[i].size()))
                          : lines[i];
        if (!body.empty() && body.back() == '\r')
          body.remove_suffix(1);
        if (body == delim)
          break;
      }
    }
    out.push_back(std::move(ins));
    current.clear();
  }
  return out;
}

// Expands $VAR, ${VAR}, ${VAR:-w}, ${VAR-w}, ${VAR:+w}, ${VAR+w} as Docker's
// shell lexer does; undefined is empty. Throws ExpansionTooLong past
// kMaxExpansion: `ARG A=a` then `A=$A$A` repeated doubles it each time.
std::string expand(std::string_view s, const Scope& scope) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (out.size() > kMaxExpansion)
      throw ExpansionTooLong(0);
    char c = s[i];
    if (c == '\\' && i + 1 < s.size() && s[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (c != '$' || i + 1 >= s.size()) {
      out += c;
      continue;
    }
    auto lookup = [&](const std::string& name) -> std::optional<std::string> {
      auto it = scope.find(name);
      if (it == scope.end())
        return std::nullopt;
      return it->second;
    };
    if (s[i + 1] == '{') {
      // Find the matching brace, allowing nested ${...} in the word.
      size_t depth = 1, j = i + 2;
      for (; j < s.size() && depth > 0; ++j) {
        if (s[j] == '{')
          ++depth;
        else if (s[j] == '}')
          --depth;
      }
      if (depth != 0) {
        out.append(s.substr(i));
        break;
      }
      std::string_view inner = s.substr(i + 2, j - 1 - (i + 2));
      size_t k = 0;
      while (k < inner.size() && (std::isalnum(static_cast<unsigned char>(inner[k])) || inner[k] == '_'))
        ++k;
      std::string name(inner.substr(0, k));
      std::string_view op = inner.substr(k);
      auto value = lookup(name);
      if (op.empty()) {
        out += value.value_or("");
      } else if (op.substr(0, 2) == ":-") {
        out += (value && !value->empty()) ? *value : expand(op.substr(2), scope);
      } else if (op[0] == '-') {
        out += value ? *value : expand(op.substr(1), scope);
      } else if (op.substr(0, 2) == ":+") {
        out += (value && !value->empty()) ? expand(op.substr(2), scope) : "";
      } else if (op[0] == '+') {
        out += value ? expand(op.substr(1), scope) : "";
      } else {
        out += value.value_or("");
      }
      i = j - 1;
      continue;
    }
    size_t j = i + 1;
    while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_'))
      ++j;
    if (j == i + 1) {
      out += c;
      continue;
    }
    out += lookup(std::string(s.substr(i + 1, j - i - 1))).value_or("");
    i = j - 1;
  }
  if (out.size() > kMaxExpansion)
    throw ExpansionTooLong(0);
  return out;
}

// Splits on unquoted whitespace, removing the quotes.
std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  bool have = false;
  char quote = 0;
  for (char c : s) {
    if (quote) {
      if (c == quote)
        quote = 0;
      else
        cur += c;
    } else if (c == '"' || c == '\'') {
      quote = c;
      have = true;
    } else if (c == ' ' || c == '\t') {
      if (have || !cur.empty())
        out.push_back(cur);
      cur.clear();
      have = false;
    } else {
      cur += c;
    }
  }
  if (have || !cur.empty())
    out.push_back(cur);
  return out;
}

// Handles `ARG A=1 B` against the scope; build args override defaults and
// `inherited` supplies values for a stage's redeclared global ARGs.
void declare_args(const std::string& args, Scope& scope, const Scope* inherited,
                  const std::map<std::string, std::string>& build_args) {
  for (const auto& word : words(args)) {
    auto eq = word.find('=');
    std::string name = word.substr(0, eq);
    if (auto it = build_args.find(name); it != build_args.end()) {
      scope[name] = it->second;
    } else if (eq != std::string::npos) {
      scope[name] = expand(word.substr(eq + 1), scope);
    } else if (inherited && inherited->count(name)) {
      scope[name] = inherited->at(name);
    } else {
      scope.erase(name);
    }
  }
}

// The arguments of COPY/ADD without their --flags, in the JSON form or as
// words, expanded in the stage's scope.
std::vector<std::string> copy_arguments(std::string_view args, const Scope& scope) {
  args = trim(args);
  // Skip the leading --flags (words starting with "--").
  while (args.substr(0, 2) == "--") {
    size_t end = args.find_first_of(" \t");
    args = end == std::string_view::npos ? std::string_view{} : trim(args.substr(end));
  }
  std::vector<std::string> out;
  if (!args.empty() && args.front() == '[' && args.back() == ']') {
    std::string_view body = args.substr(1, args.size() - 2);
    for (size_t pos = 0; (pos = body.find('"', pos)) != std::string_view::npos;) {
      std::string item;
      size_t q = pos + 1;
      for (; q < body.size() && body[q] != '"'; ++q) {
        if (body[q] == '\\' && q + 1 < body.size())
          ++q;
        item += body[q];
      }
      out.push_back(expand(item, scope));
      pos = q + 1;
    }
    return out;
  }
  for (const auto& w : words(args))
    out.push_back(expand(w, scope));
  return out;
}

// `ENV a=1 b=2` or the legacy `ENV a 1`.
void declare_env(const std::string& args, Scope& scope) {
  auto w = words(args);
  if (w.size() >= 2 && w[0].find('=') == std::string::npos) {
    std::string value;
    for (size_t j = 1; j < w.size(); ++j)
      value += (j > 1 ? " " : "") + w[j];
    scope[w[0]] = expand(value, scope);
    return;
  }
  for (const auto& word : w)
    if (auto eq = word.find('='); eq != std::string::npos)
      scope[word.substr(0, eq)] = expand(word.substr(eq + 1), scope);
}

} // namespace

std::vector<CopySource> copy_sources(std::string_view dockerfile,
                                     const std::map<std::string, std::string>& build_args) {
  std::vector<CopySource> out;
  Scope global, stage;
  bool in_stage = false;
  for (const auto& ins : parse_instructions(dockerfile)) {
    try {
      if (ins.keyword == "ARG") {
        declare_args(ins.args, in_stage ? stage : global, in_stage ? &global : nullptr, build_args);
      } else if (ins.keyword == "FROM") {
        in_stage = true;
        stage.clear();
      } else if (ins.keyword == "ENV") {
        declare_env(ins.args, stage);
      } else if (ins.keyword == "COPY" || ins.keyword == "ADD") {
        bool from_image = false;
        for (const auto& w : words(ins.args)) {
          if (w.rfind("--", 0) != 0)
            break;
          from_image |= w.rfind("--from=", 0) == 0;
        }
        if (from_image)
          continue; // copies from an image or stage, not from the context
        auto args = copy_arguments(ins.args, stage);
        if (args.size() < 2)
          continue;
        args.pop_back(); // the destination
        for (auto& src : args) {
          if (src.rfind("<<", 0) == 0 || src.find("://") != std::string::npos ||
              src.rfind("git@", 0) == 0)
            continue; // a heredoc or a URL: nothing from the context
          out.push_back({std::move(src), ins.keyword, ins.line});
        }
      }
    } catch (const ExpansionTooLong& e) {
      throw ExpansionTooLong(ins.line); // the instruction that grew it
    }
  }
  return out;
}

std::vector<BuildkitFeature> buildkit_features(std::string_view dockerfile) {
  static const std::set<std::string> run_flags{"--mount", "--network", "--security"};
  static const std::set<std::string> copy_flags{"--link", "--chmod", "--parents", "--exclude",
                                                "--checksum", "--keep-git-dir"};
  std::vector<BuildkitFeature> out;
  for (const auto& ins : parse_instructions(dockerfile)) {
    bool is_run = ins.keyword == "RUN";
    bool is_copy = ins.keyword == "COPY" || ins.keyword == "ADD";
    if (!is_run && !is_copy)
      continue;
    for (const auto& w : words(ins.args)) {
      if (w.rfind("--", 0) != 0)
        break;
      std::string flag = w.substr(0, w.find('='));
      if ((is_run && run_flags.count(flag)) || (is_copy && copy_flags.count(flag)))
        out.push_back({ins.line, ins.keyword + " " + flag});
    }
    if (!heredocs(ins.args).empty())
      out.push_back({ins.line, ins.keyword + " with a heredoc (<<)"});
  }
  return out;
}

ParsedReference parse_reference(std::string_view reference) {
  ParsedReference out;
  auto at = reference.find('@');
  if (at != std::string_view::npos) {
    out.pinned = true;
    reference = reference.substr(0, at);
  }
  auto slash = reference.rfind('/');
  auto colon = reference.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash))
    reference = reference.substr(0, colon);
  out.repository = std::string(reference);
  return out;
}

std::vector<ImageUse> image_uses(std::string_view dockerfile,
                                 const std::map<std::string, std::string>& build_args) {
  std::vector<ImageUse> out;
  Scope global;
  Scope stage;
  bool in_stage = false;
  std::set<std::string> aliases; // lower-cased stage names
  int stage_count = 0;

  auto add = [&](const std::string& ref, const std::string& instruction, int line) {
    if (ref.empty())
      return;
    std::string lowered = lower(ref);
    if (lowered == "scratch" || aliases.count(lowered))
      return;
    if (std::all_of(ref.begin(), ref.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
        ref.size() < 9 && std::stoi(ref) < stage_count)
      return; // COPY --from=0 names an earlier stage
    auto parsed = parse_reference(ref);
    out.push_back({ref, image_name_of(parsed.repository), parsed.pinned, instruction, line});
  };

  for (const auto& ins : parse_instructions(dockerfile)) {
    try {
      if (ins.keyword == "ARG") {
        if (in_stage)
          declare_args(ins.args, stage, &global, build_args);
        else
          declare_args(ins.args, global, nullptr, build_args);
      } else if (ins.keyword == "FROM") {
        auto w = words(ins.args);
        size_t k = 0;
        while (k < w.size() && w[k].rfind("--", 0) == 0)
          ++k;
        if (k < w.size())
          add(expand(w[k], global), "FROM", ins.line);
        if (k + 2 < w.size() && upper(w[k + 1]) == "AS")
          aliases.insert(lower(w[k + 2]));
        in_stage = true;
        stage.clear();
        ++stage_count;
      } else if (ins.keyword == "COPY" || ins.keyword == "ADD" || ins.keyword == "RUN") {
        Scope scope = stage;
        for (const auto& w : words(ins.args)) {
          if (w.rfind("--", 0) != 0)
            break;
          if (ins.keyword != "RUN" && w.rfind("--from=", 0) == 0) {
            add(expand(w.substr(7), scope), ins.keyword + " --from", ins.line);
          } else if (ins.keyword == "RUN" && w.rfind("--mount=", 0) == 0) {
            std::string_view opts = std::string_view(w).substr(8);
            size_t pos = 0;
            while (pos <= opts.size()) {
              size_t comma = opts.find(',', pos);
              if (comma == std::string_view::npos)
                comma = opts.size();
              auto opt = opts.substr(pos, comma - pos);
              if (opt.rfind("from=", 0) == 0)
                add(expand(opt.substr(5), scope), "RUN --mount", ins.line);
              pos = comma + 1;
            }
          }
        }
      }
    } catch (const ExpansionTooLong& e) {
      throw ExpansionTooLong(ins.line); // the instruction that grew it
    }
  }
  return out;
}

std::vector<std::string> declared_args(std::string_view dockerfile) {
  std::set<std::string> names;
  for (const auto& ins : parse_instructions(dockerfile))
    if (ins.keyword == "ARG")
      for (const auto& word : words(ins.args))
        names.insert(word.substr(0, word.find('=')));
  return {names.begin(), names.end()};
}

std::optional<UnknownInstruction> unknown_instruction(std::string_view dockerfile) {
  static const std::vector<std::string> known{"ADD",        "ARG",    "CMD",   "COPY",       "ENTRYPOINT",
                                              "ENV",        "EXPOSE", "FROM",  "HEALTHCHECK", "LABEL",
                                              "MAINTAINER", "ONBUILD", "RUN",  "SHELL",      "STOPSIGNAL",
                                              "USER",       "VOLUME", "WORKDIR"};
  // A frontend named by `# syntax=` may add instructions of its own.
  for (auto line : split_lines(dockerfile.substr(0, 4096))) {
    auto l = trim(line);
    if (l.empty() || l[0] != '#')
      break;
    auto body = lower(trim(l.substr(1)));
    if (body.rfind("syntax", 0) == 0 && body.find('=') != std::string::npos)
      return std::nullopt;
  }
  for (const auto& ins : parse_instructions(dockerfile))
    if (std::find(known.begin(), known.end(), ins.keyword) == known.end())
      return UnknownInstruction{ins.line, ins.keyword, util::closest(ins.keyword, known, 2).value_or("")};
  return std::nullopt;
}

} // namespace mlrepo::project
