// Input limits (DESIGN.md §3.4). Each one is configurable and each has a test that exceeds it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace renkei {

struct Limits {
  size_t max_body_bytes = 10 * 1024 * 1024;  // JP-CLINS: 10 MB per submission
  size_t max_header_bytes = 16 * 1024;
  size_t max_json_depth = 64;
  size_t max_string_bytes = 1024 * 1024;  // one JSON string (attachments are base64)
  size_t max_bundle_entries = 1000;
  double requests_per_second = 2000;  // per client (token subject or IP), token bucket
  double burst = 4000;
  size_t max_page_size = 1000;  // _count upper bound
  size_t default_page_size = 50;
};

}  // namespace renkei
