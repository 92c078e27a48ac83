#include "http/router.h"

#include <algorithm>

namespace renkei::http {
namespace {

constexpr size_t kMethodCount = 7;
constexpr std::array<Method, kMethodCount> kAllMethods = {
    Method::kGet,   Method::kHead,   Method::kPost,   Method::kPut,
    Method::kPatch, Method::kDelete, Method::kOptions};

using Segments = std::array<std::string_view, Router::kMaxSegments>;

// Splits "/a/b/c" into {"a","b","c"}; false when the path does not start with '/' or has
// too many segments. "/" is zero segments; a single trailing slash is dropped.
bool Split(std::string_view path, Segments& out, size_t& count) {
  count = 0;
  if (path.empty() || path.front() != '/') return false;
  path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.empty()) return true;
  while (true) {
    if (count == out.size()) return false;
    size_t slash = path.find('/');
    out[count++] = path.substr(0, slash);
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

bool IsCapture(std::string_view segment) {
  return segment.size() >= 3 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

struct Router::Node {
  std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
  std::unique_ptr<Node> capture;
  std::array<long, kMethodCount> routes;  // route index per Method, -1 when none
  bool any = false;

  Node() { routes.fill(-1); }

  std::string Allow() const {
    std::string allow;
    for (Method m : kAllMethods) {
      if (routes[static_cast<size_t>(m)] < 0) continue;
      if (!allow.empty()) allow += ", ";
      allow += MethodName(m);
    }
    return allow;
  }
};

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

Status Router::Add(size_t index, Method method, std::string_view pattern) {
  Segments segments;
  size_t count = 0;
  if (!Split(pattern, segments, count)) {
    return MakeError(ErrorCode::kInternal, "route pattern must start with '/' and have at most " +
                                               std::to_string(kMaxSegments) + " segments");
  }
  Captures captures;
  Node* node = root_.get();
  for (size_t i = 0; i < count; ++i) {
    std::string_view segment = segments[i];
    if (segment.empty()) {
      return MakeError(ErrorCode::kInternal, "empty segment in route pattern");
    }
    if (IsCapture(segment)) {
      captures.names.emplace_back(i, std::string(segment.substr(1, segment.size() - 2)));
      if (!node->capture) node->capture = std::make_unique<Node>();
      node = node->capture.get();
    } else {
      if (segment.find_first_of("{}") != std::string_view::npos) {
        return MakeError(ErrorCode::kInternal, "malformed capture in route pattern");
      }
      auto it = node->literals.find(segment);
      if (it == node->literals.end()) {
        it = node->literals.emplace(std::string(segment), std::make_unique<Node>()).first;
      }
      node = it->second.get();
    }
  }
  long& slot = node->routes[static_cast<size_t>(method)];
  if (slot >= 0) {
    return MakeError(ErrorCode::kInternal, "duplicate route " + std::string(MethodName(method)) +
                                               " " + std::string(pattern));
  }
  slot = static_cast<long>(index);
  node->any = true;
  if (!captures.names.empty()) captures_[index] = std::move(captures);
  return Ok();
}

namespace {

// Depth-first walk, literal child before capture child, so that literals win but a failed
// literal branch still falls back to a capture. `first_any` remembers the highest-priority
// node that matches the path for some method (for 405 and Allow).
template <typename NodeT>
const NodeT* Walk(const NodeT* node, const Segments& segments, size_t count, size_t i,
                  size_t method, const NodeT*& first_any) {
  if (i == count) {
    if (!node->any) return nullptr;
    if (first_any == nullptr) first_any = node;
    return method < kMethodCount && node->routes[method] >= 0 ? node : nullptr;
  }
  auto it = node->literals.find(segments[i]);
  if (it != node->literals.end()) {
    if (const NodeT* found = Walk(it->second.get(), segments, count, i + 1, method, first_any)) {
      return found;
    }
  }
  if (node->capture && !segments[i].empty()) {
    return Walk(node->capture.get(), segments, count, i + 1, method, first_any);
  }
  return nullptr;
}

}  // namespace

Router::Match Router::Find(Method method, std::string_view path,
                           std::map<std::string, std::string, std::less<>>* params) const {
  Match match;
  Segments segments;
  size_t count = 0;
  if (!Split(path, segments, count)) return match;
  const Node* first_any = nullptr;
  const Node* found = Walk(root_.get(), segments, count, 0, static_cast<size_t>(method), first_any);
  if (found != nullptr) {
    match.kind = Match::Kind::kFound;
    match.route = static_cast<size_t>(found->routes[static_cast<size_t>(method)]);
    if (params != nullptr) {
      auto it = captures_.find(match.route);
      if (it != captures_.end()) {
        for (const auto& [position, name] : it->second.names) {
          (*params)[name] = std::string(segments[position]);
        }
      }
    }
    return match;
  }
  if (first_any != nullptr) {
    match.kind = Match::Kind::kMethodNotAllowed;
    match.allow = first_any->Allow();
    return match;
  }
  // FHIR's base is "/fhir/<type>": say so when the type itself is what no route knows.
  if (count >= 2 && segments[0] == "fhir") {
    auto fhir = root_->literals.find(std::string_view("fhir"));
    if (fhir != root_->literals.end() && !fhir->second->capture &&
        fhir->second->literals.find(segments[1]) == fhir->second->literals.end()) {
      match.unknown_fhir_type = true;
    }
  }
  return match;
}

std::string Router::AllowedMethods(std::string_view path) const {
  Segments segments;
  size_t count = 0;
  if (!Split(path, segments, count)) return {};
  const Node* first_any = nullptr;
  // kMethodCount is no method: the walk only records which node the path reaches.
  Walk(root_.get(), segments, count, 0, kMethodCount, first_any);
  return first_any == nullptr ? std::string() : first_any->Allow();
}

}  // namespace renkei::http
