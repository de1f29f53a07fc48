#include "app.hpp"

int main(int argc, char** argv) { return mlrepo::cli::run(argc, argv); }
