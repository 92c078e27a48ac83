// Maps a method and a decoded path to a route of the table: a trie of path segments where
// literal segments ("Patient", "$everything", "_history") win over captures ("{id}").
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/request.h"
#include "core/status.h"

namespace renkei::http {

class Router {
 public:
  // The outcome of a lookup. kMethodNotAllowed carries the methods the path does accept.
  struct Match {
    enum class Kind { kFound, kNotFound, kMethodNotAllowed };
    Kind kind = Kind::kNotFound;
    size_t route = 0;                // index into the table, valid when kFound
    std::string allow;               // e.g. "GET, PUT" when kMethodNotAllowed
    bool unknown_fhir_type = false;  // "/fhir/<X>..." where no route starts with <X>
  };

  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // Registers route `index` of a table. Errors (kInternal) on a malformed pattern or a
  // duplicate method+pattern; patterns are written decoded and start with '/'.
  Status Add(size_t index, Method method, std::string_view pattern);

  // Looks up a decoded path (no query). When params is non-null, captures are stored into it.
  // One trailing slash is ignored; paths of more than kMaxSegments segments never match.
  Match Find(Method method, std::string_view path,
             std::map<std::string, std::string, std::less<>>* params) const;

  // The methods a path accepts ("GET, POST"), empty when it matches no pattern.
  std::string AllowedMethods(std::string_view path) const;

  static constexpr size_t kMaxSegments = 32;

 private:
  struct Node;
  struct Captures {
    std::vector<std::pair<size_t, std::string>> names;  // segment position -> capture name
  };

  std::unique_ptr<Node> root_;
  std::map<size_t, Captures> captures_;  // by route index
};

}  // namespace renkei::http
