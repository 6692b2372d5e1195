// One way to name enum values and read them back: a table of {value, name} pairs per enum gives name(),
// parse() (with an error that lists the accepted names) and the list of names for --help texts, so that no enum
// needs its own hand-written switch and loop that drift apart. Aliases are extra rows for a value that is
// already named: name() returns a value's first row, and the lists show first rows only.
//
//   constexpr EnumName<Sign> kSignRows[] = {{Sign::All, "all"}, ..., {Sign::AbsoluteValue, "absolute"}};
//   constexpr EnumNames<Sign> kSignNames{"sign", kSignRows};
//   kSignNames.parse("absolute") == Sign::AbsoluteValue;  kSignNames.name(Sign::AbsoluteValue) == "absolute_value"
//
// Header-only (the standard library and runtime/error.h): the attribution library and render code use it too.
#pragma once

#include <cctype>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/error.h"

namespace engine::apps {

template <class E>
struct EnumName {
    E value;
    const char* name;
};

enum class NameCase { Exact, Insensitive };  // Insensitive: "Viridis" reads as "viridis"

template <class E>
class EnumNames {
public:
    // `what` names the kind of value in errors ("unknown colour map 'x'"). The rows must outlive the table:
    // a static array, or a static vector built once (then the pointer and size constructor).
    template <std::size_t N>
    constexpr EnumNames(const char* what, const EnumName<E> (&rows)[N], NameCase name_case = NameCase::Exact)
        : what_(what), rows_(rows), size_(N), case_(name_case) {}
    constexpr EnumNames(const char* what, const EnumName<E>* rows, std::size_t size,
                        NameCase name_case = NameCase::Exact)
        : what_(what), rows_(rows), size_(size), case_(name_case) {}

    // The value's first name; a value without a row is a programming error.
    const char* name(E value) const {
        for (const EnumName<E>& row : rows())
            if (row.value == value) return row.name;
        throw Error(std::string(what_) + ": a value without a name");
    }

    std::optional<E> find(std::string_view text) const {
        for (const EnumName<E>& row : rows())
            if (same(row.name, text)) return row.value;
        return std::nullopt;
    }

    // Throws engine::Error "unknown WHAT 'text' (valid: a, b, c)".
    E parse(std::string_view text) const {
        if (const std::optional<E> value = find(text)) return *value;
        throw Error("unknown " + std::string(what_) + " '" + std::string(text) + "' (valid: " + valid() + ")");
    }

    // Every value's first name, in table order (aliases left out).
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (std::size_t i = 0; i < size_; ++i)
            if (first_of_its_value(i)) out.emplace_back(rows_[i].name);
        return out;
    }

    // names() as "a, b, c".
    std::string valid() const {
        std::string out;
        for (const std::string& n : names()) out += (out.empty() ? "" : ", ") + n;
        return out;
    }

    // Every row, aliases included.
    struct Rows {
        const EnumName<E>* first;
        const EnumName<E>* last;
        const EnumName<E>* begin() const { return first; }
        const EnumName<E>* end() const { return last; }
    };
    Rows rows() const { return {rows_, rows_ + size_}; }

private:
    bool same(std::string_view a, std::string_view b) const {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); ++i) {
            const auto x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
            if (case_ == NameCase::Insensitive ? std::tolower(x) != std::tolower(y) : x != y) return false;
        }
        return true;
    }
    bool first_of_its_value(std::size_t i) const {
        for (std::size_t j = 0; j < i; ++j)
            if (rows_[j].value == rows_[i].value) return false;
        return true;
    }

    const char* what_;
    const EnumName<E>* rows_;
    std::size_t size_;
    NameCase case_;
};

}  // namespace engine::apps
