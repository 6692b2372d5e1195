// The backend op table (kernels/backend_ops.def) as data, and the checks that the rest of the tree agrees with it:
// each op is defined in its family's files of both backends, and the CUDA and gradcheck suites its entry names are
// registered in the CUDA and gradcheck test binaries, with their tests in the family's test file. Each binary
// checks its own registry (tests/cuda/backend_ops_test.cpp, tests/gradcheck/backend_ops_test.cpp) and the kernels
// binary checks the sources (tests/kernels/backend_ops_test.cpp), so a new entry whose suite or definition is
// missing, or sits in another family's file, fails a test that names it.
#pragma once

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace engine::test {

struct BackendOpEntry {
    const char* name;
    const char* family;
    const char* cuda_suite;
    const char* gradcheck_suite;  // "none" when no differentiable op uses the kernel
};

inline const std::vector<BackendOpEntry>& backend_op_table() {
    static const std::vector<BackendOpEntry> table = {
#define ENGINE_BACKEND_OP(ret, op, params, family, cuda_suite, gradcheck_suite) \
    {#op, #family, #cuda_suite, #gradcheck_suite},
#include "kernels/backend_ops.def"
#undef ENGINE_BACKEND_OP
    };
    return table;
}

inline bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Whether a registered suite name is `suite`: as written, or as gtest names a value-parameterised suite
// ("<instantiation>/<suite>") or a typed one ("<suite>/<index>").
inline bool is_suite(const std::string& registered, const std::string& suite) {
    return registered == suite || ends_with(registered, "/" + suite) || registered.rfind(suite + "/", 0) == 0;
}

// What is wrong with `suite` in this binary's registry: "" when it has tests and every one is defined in a file
// whose path ends with `file`; else why not.
inline std::string suite_problem(const std::string& suite, const std::string& file) {
    const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
    int tests = 0;
    for (int i = 0; i < unit.total_test_suite_count(); ++i) {
        const ::testing::TestSuite& s = *unit.GetTestSuite(i);
        if (!is_suite(s.name(), suite)) continue;
        for (int j = 0; j < s.total_test_count(); ++j) {
            const ::testing::TestInfo& t = *s.GetTestInfo(j);
            if (!ends_with(t.file(), file)) {
                return suite + "." + t.name() + " is defined in " + t.file() + ", not in " + file;
            }
            ++tests;
        }
    }
    return tests > 0 ? "" : "no test suite " + suite + " (expected in " + file + ")";
}

// One line per op of the table whose suite (cuda_suite or gradcheck_suite) is missing from this binary or lies
// outside <folder>/<family><suffix>; ops whose suite is `none` are skipped.
inline std::string missing_suites(const char* BackendOpEntry::*suite, const std::string& folder,
                                  const std::string& suffix) {
    std::ostringstream out;
    for (const BackendOpEntry& op : backend_op_table()) {
        if (std::string(op.*suite) == "none") continue;
        const std::string problem = suite_problem(op.*suite, folder + "/" + op.family + suffix);
        if (!problem.empty()) out << "\n  " << op.name << ": " << problem;
    }
    return out.str();
}

}  // namespace engine::test
