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
    case Purpose::kOperations:
      return "HOPERAT";
    case Purpose::kCoverage:
      return "COVERAGE";
  }
  return "TREAT";
}

std::string_view DefaultPurposeCode(const Principal& who) {
  // Each of these principals has one natural purpose; only care providers choose.
  if (who.kind == PrincipalKind::kPatient) return "PATRQT";
  switch (who.facility_type) {
    case FacilityType::kMinistry:
      return "HOPERAT";
    case FacilityType::kInsurer:
      return "COVERAGE";
    case FacilityType::kResearch:
      return "HRESCH";
    default:
      return "TREAT";
  }
}

Result<ClaimedPurpose> ClaimedPurposeOf(const Request& req, const Principal& who) {
  ClaimedPurpose c;
  std::string_view code = req.Header("x-purpose-of-use").value_or(DefaultPurposeCode(who));
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
  } else if (code == "HOPERAT") {
    c.purpose = Purpose::kOperations;
  } else if (code == "COVERAGE") {
    c.purpose = Purpose::kCoverage;
  } else {
    return Error(ErrorCode::kInvalid,
                 "X-Purpose-Of-Use must be TREAT, ETREAT, DISASTER, PATRQT, HRESCH, HOPERAT or "
                 "COVERAGE");
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
