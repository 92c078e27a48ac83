// The privacy officer's review (issue "Access policy", beyond the national system): for the
// ministry role, every emergency (ETREAT) and disaster (DISASTER) access in a period, newest
// first, with facility name, qualification, patient, category, purpose, time, outcome and the
// stated reason. The review itself is audited before the answer leaves.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "core/clock.h"
#include "core/limits.h"
#include "core/principal.h"
#include "core/request.h"
#include "store/store.h"

namespace renkei::access {

// The longest period one review may cover (a year, leap day included); longer is refused.
inline constexpr std::chrono::days kMaxReviewPeriod{366};
// Extensions on each reviewed AuditEvent with what the entry's detail recorded.
inline constexpr std::string_view kAccessReasonExtension =
    "http://renkei.jp/fhir/StructureDefinition/access-reason";
inline constexpr std::string_view kAccessConsentExtension =
    "http://renkei.jp/fhir/StructureDefinition/access-consent";

struct ReviewQuery {
  TimePoint start{};       // inclusive
  TimePoint end{};         // exclusive; after start, at most kMaxReviewPeriod later
  size_t count = 50;       // 1..Limits::max_page_size
  int64_t before_seq = 0;  // 0: from the newest; else entries with seq < before_seq
};

struct ReviewEntry {
  store::AuditRow row;
  std::string facility_name;  // the registered Organization's name; "" when not registered
};

struct ReviewPage {
  std::vector<ReviewEntry> entries;  // ETREAT and DISASTER entries together, seq descending
  int64_t next_before_seq = 0;       // 0 when there is no further page
};

class PrivacyReviewService {
 public:
  PrivacyReviewService(store::Store& store, audit::AuditLog& audit, const Clock& clock,
                       Limits limits = {});

  // One page of the review. Only ministry principals (kForbidden otherwise, audited as
  // denied); a period that is empty, reversed or longer than kMaxReviewPeriod, or a count
  // outside 1..max_page_size: kInvalid. Audited (search/audit/HOPERAT) before returning.
  Result<ReviewPage> Review(const Principal& who, const ReviewQuery& query);

  // GET /fhir/AuditEvent/$urgent-access-review?start=&end=[&_count=][&_cursor=] -> searchset
  // of AuditEvent with a next link. This service must outlive the table.
  RouteTable Routes();

 private:
  Response Handle(Request& req);

  store::Store& store_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  Limits limits_;
};

}  // namespace renkei::access
