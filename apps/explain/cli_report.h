// The explain command's run summary: the report's header rows and footer, results.json, report.html and the
// closing line.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>

#include "apps/explain/cli_methods.h"
#include "apps/explain/cli_model.h"
#include "apps/explain/render/report.h"

namespace engine::explain::cli {

// What the run collects image by image.
struct RunRecord {
    render::Report report;                            // one entry per image
    nlohmann::json images = nlohmann::json::array();  // results.json's "images"
    int64_t pictures = 0;                             // method pictures written
};

// Writes results.json and report.html to the output folder and prints the closing line.
void write_results(const RunSettings& s, const LoadedModel& loaded, size_t num_inputs, const Stopwatch& total,
                   RunRecord& record);

}  // namespace engine::explain::cli
