#include "fhir/resource.h"

#include <fmt/format.h>

#include <array>
#include <charconv>

namespace renkei::fhir {

std::string FormatETag(int64_t version) {
  return fmt::format("W/\"{}\"", version);
}

std::optional<int64_t> ParseETag(std::string_view etag) {
  if (etag.starts_with("W/")) etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  int64_t v = 0;
  auto [p, ec] = std::from_chars(etag.data(), etag.data() + etag.size(), v);
  if (ec != std::errc() || p != etag.data() + etag.size() || v < 1) return std::nullopt;
  return v;
}

std::string HttpDate(TimePoint t) {
  static constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                            "Thu", "Fri", "Sat"};
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto days = std::chrono::floor<std::chrono::days>(t);
  std::chrono::year_month_day ymd(days);
  std::chrono::weekday wd(days);
  std::chrono::hh_mm_ss hms(std::chrono::floor<std::chrono::seconds>(t - days));
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", kDays[wd.c_encoding()],
                     static_cast<unsigned>(ymd.day()),
                     kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

void StampMeta(json::object& resource, std::string_view id, int64_t version, TimePoint updated) {
  // Rebuilt so that resourceType, id and meta lead, as in the spec's examples.
  json::object meta;
  if (const json::object* old = json::GetObject(resource, "meta")) meta = *old;
  meta["versionId"] = std::to_string(version);
  meta["lastUpdated"] = FormatInstant(updated);
  json::object out(resource.storage());
  out.reserve(resource.size() + 2);
  if (json::value* rt = resource.if_contains("resourceType")) out["resourceType"] = std::move(*rt);
  out["id"] = id;
  out["meta"] = std::move(meta);
  for (auto& kv : resource) {
    if (kv.key() == "resourceType" || kv.key() == "id" || kv.key() == "meta") continue;
    out[kv.key()] = std::move(kv.value());
  }
  resource = std::move(out);
}

std::string ResourceUrl(std::string_view base_url, std::string_view type, std::string_view id) {
  return fmt::format("{}/fhir/{}/{}", base_url, type, id);
}

StringParts MetaExtensionParts(const json::object& resource, std::string_view url) {
  StringParts out;
  const json::object* meta = json::GetObject(resource, "meta");
  const json::array* exts = meta ? json::GetArray(*meta, "extension") : nullptr;
  if (!exts) return out;
  for (const auto& e : *exts) {
    if (!e.is_object() || json::GetString(e.get_object(), "url") != url) continue;
    const json::array* parts = json::GetArray(e.get_object(), "extension");
    if (!parts) continue;
    for (const auto& p : *parts) {
      if (!p.is_object()) continue;
      out.emplace_back(std::string(json::GetString(p.get_object(), "url").value_or("")),
                       std::string(json::GetString(p.get_object(), "valueString").value_or("")));
    }
  }
  return out;
}

void SetMetaExtensionParts(json::object& resource, std::string_view url, const StringParts& parts) {
  json::array values;
  for (const auto& [name, value] : parts) {
    if (!value.empty()) values.push_back(json::object{{"url", name}, {"valueString", value}});
  }
  json::object& meta = resource["meta"].is_object() ? resource["meta"].get_object()
                                                    : resource["meta"].emplace_object();
  json::array kept;
  if (const json::array* exts = json::GetArray(meta, "extension")) {
    for (const auto& e : *exts) {
      if (e.is_object() && json::GetString(e.get_object(), "url") == url) continue;
      kept.push_back(e);
    }
  }
  kept.push_back(json::object{{"url", url}, {"extension", std::move(values)}});
  meta["extension"] = std::move(kept);
}

}  // namespace renkei::fhir
