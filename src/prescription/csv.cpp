#include "prescription/csv.h"

namespace renkei::prescription {

Result<std::vector<CsvRecord>> ParseCsv(std::string_view text) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (text.starts_with(kBom)) text.remove_prefix(kBom.size());

  std::vector<CsvRecord> records;
  CsvRecord current;
  std::string field;
  size_t line = 1;
  current.line = line;
  size_t i = 0;
  const size_t n = text.size();
  bool record_has_content = false;

  auto end_field = [&] {
    current.fields.push_back(std::move(field));
    field.clear();
  };
  auto end_record = [&] {
    end_field();
    records.push_back(std::move(current));
    current = CsvRecord{};
    record_has_content = false;
  };

  while (i < n) {
    char c = text[i];
    if (c == '"' && field.empty()) {
      // A quoted field: runs to the closing quote; "" inside is one quote.
      const size_t start_line = line;
      ++i;
      bool closed = false;
      while (i < n) {
        char q = text[i];
        if (q == '"') {
          if (i + 1 < n && text[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        if (q == '\n') ++line;
        field.push_back(q);
        ++i;
      }
      if (!closed) {
        return Error(ErrorCode::kInvalid,
                     "CSV line " + std::to_string(start_line) + ": unterminated quoted field");
      }
      record_has_content = true;
      // After a closing quote only a separator or the end of the line may follow.
      if (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
        return Error(ErrorCode::kInvalid,
                     "CSV line " + std::to_string(line) + ": text after a closing quote");
      }
      continue;
    }
    if (c == ',') {
      end_field();
      record_has_content = true;
      ++i;
      continue;
    }
    if (c == '\r' && i + 1 < n && text[i + 1] == '\n') {
      ++i;
      c = '\n';
    }
    if (c == '\n') {
      ++i;
      if (record_has_content || !field.empty()) {
        end_record();
      } else {
        // An empty line carries no record.
        current = CsvRecord{};
      }
      ++line;
      current.line = line;
      continue;
    }
    field.push_back(c);
    record_has_content = true;
    ++i;
  }
  if (record_has_content || !field.empty()) end_record();
  return records;
}

}  // namespace renkei::prescription
