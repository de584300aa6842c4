// A small std::expected shim for C++20 (GCC 12 has no <expected>): a value or
// an error, never both. The control plane returns these instead of throwing.
#pragma once

#include <type_traits>
#include <utility>
#include <variant>

namespace traverse {

template <typename E>
struct Unexpected {
  E error;
};
template <typename E>
Unexpected<std::decay_t<E>> unexpected(E&& error) {
  return {std::forward<E>(error)};
}

template <typename T, typename E>
class Expected {
 public:
  Expected(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Expected(Unexpected<E> u) : state_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT
  // unexpected("text") carries a const char*: accept any error convertible to E.
  template <typename G, typename = std::enable_if_t<std::is_convertible_v<G, E>>>
  Expected(Unexpected<G> u) : state_(std::in_place_index<1>, E(std::move(u.error))) {}  // NOLINT

  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  const E& error() const { return std::get<1>(state_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, E> state_;
};

// For operations that return nothing on success.
template <typename E>
class Expected<void, E> {
 public:
  Expected() = default;
  Expected(Unexpected<E> u) : ok_(false), error_(std::move(u.error)) {}  // NOLINT: implicit
  template <typename G, typename = std::enable_if_t<std::is_convertible_v<G, E>>>
  Expected(Unexpected<G> u) : ok_(false), error_(E(std::move(u.error))) {}  // NOLINT: implicit
  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const E& error() const { return error_; }

 private:
  bool ok_ = true;
  E error_{};
};

}  // namespace traverse
