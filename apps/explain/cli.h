// The explain command's run: load the model, resolve what depends on it (layers, classes, targets,
// preprocessing, feature masks, the baseline image), explain every image with every method, and write the
// pictures, raw .npy maps, results.json and report.html. The flags are in main.cpp, their parsing in cli_plan.h.
#pragma once

namespace engine::explain::cli {

struct ExplainPlan;

// Runs the plan; throws apps::UsageError for flag values that do not fit the model (a layer path, a class name,
// --segments semantic for a classifier, ...) and engine::Error for everything else.
int run_explain(const ExplainPlan& plan);

}  // namespace engine::explain::cli
