#include "access/purpose_claim.h"

#include <fmt/format.h>

#include "core/text.h"
#include "fhir/url.h"

namespace renkei::access {

std::string_view ClaimedPurpose::code() const {
  switch (purpose) {
    case Purpose::kTreat:
      return "TREAT";
    case Purpose::kEmergency:
    case Purpose::kAmbulance:
      return "ETREAT";
    case Purpose::kDisaster:
      return "DISASTER";
    case Purpose::kPatientRequest:
      return "PATRQT";
    case Purpose::kResearch:
      return "HRESCH";
  }
  return "TREAT";
}

Result<ClaimedPurpose> ClaimedPurposeOf(const Request& req, const Principal& who) {
  ClaimedPurpose c;
  // The patient's own requests need no header: their only purpose is PATRQT.
  std::string_view code = req.Header("x-purpose-of-use")
                              .value_or(who.kind == PrincipalKind::kPatient ? "PATRQT" : "TREAT");
  if (code == "TREAT") {
    c.purpose = Purpose::kTreat;
  } else if (code == "ETREAT") {
    // DESIGN.md §5: the ambulance crew's basis is ETREAT for fire-department principals.
    c.purpose = who.facility_type == FacilityType::kFireDepartment ? Purpose::kAmbulance
                                                                   : Purpose::kEmergency;
  } else if (code == "DISASTER") {
    c.purpose = Purpose::kDisaster;
  } else if (code == "PATRQT") {
    c.purpose = Purpose::kPatientRequest;
  } else if (code == "HRESCH") {
    c.purpose = Purpose::kResearch;
  } else {
    return Error(ErrorCode::kInvalid,
                 "X-Purpose-Of-Use must be TREAT, ETREAT, DISASTER, PATRQT or HRESCH");
  }
  if (auto consent = req.Header("x-consent")) {
    if (*consent == "verbal") {
      c.verbal_consent = true;
    } else if (*consent == "cannot-obtain") {
      c.consent_cannot_be_obtained = true;
    } else {
      return Error(ErrorCode::kInvalid, "X-Consent must be verbal or cannot-obtain");
    }
  }
  if (auto reason = req.Header("x-access-reason")) {
    auto decoded = fhir::PercentDecode(*reason);
    if (!decoded) return Error(ErrorCode::kInvalid, "X-Access-Reason is not percent-encoded");
    if (decoded->size() > kMaxReasonBytes) {
      return Error(ErrorCode::kTooLarge,
                   fmt::format("X-Access-Reason is at most {} bytes", kMaxReasonBytes));
    }
    if (!text::IsValidUtf8(*decoded)) {
      return Error(ErrorCode::kInvalid, "X-Access-Reason must be UTF-8");
    }
    c.reason = std::move(*decoded);
  }
  return c;
}

}  // namespace renkei::access
