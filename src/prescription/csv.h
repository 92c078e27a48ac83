// A small RFC 4180 reader for the master files: comma-separated, fields optionally quoted
// with "" as an escaped quote, LF or CRLF line ends, line breaks allowed inside quotes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace renkei::prescription {

// One parsed record and the 1-based line it starts on (for error messages).
struct CsvRecord {
  size_t line = 0;
  std::vector<std::string> fields;
};

// Parses text into records, keeping every field byte for byte (no trimming, no decoding).
// A leading UTF-8 byte-order mark is skipped and a final empty line is not a record.
// kInvalid on an unterminated quote or text after a closing quote, naming the line.
Result<std::vector<CsvRecord>> ParseCsv(std::string_view text);

}  // namespace renkei::prescription
