// explain: attribution maps, fidelity metrics and an HTML report for a trained LeNet, VGG, UNet or FCN-32s.
// See --help (cli.cpp) for the flags.
#include "apps/common/app_main.h"
#include "apps/explain/cli.h"

int main(int argc, char** argv) {
    using namespace engine;
    return apps::run_main([&] {
        explain::cli::ExplainOptions options;
        CLI::App app{explain::cli::description(), "explain"};
        app.get_formatter()->column_width(36);
        explain::cli::add_flags(app, options);
        app.footer(explain::cli::footer());
        if (const auto code = apps::parse_command_line(app, argc, argv)) return *code;
        return explain::cli::run_explain(options);
    });
}
