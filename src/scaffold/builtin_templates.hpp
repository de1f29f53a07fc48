#pragma once
#include "mlrepo/scaffold/scaffold.hpp"

namespace mlrepo::scaffold {
std::vector<Template> builtin_templates();
}
