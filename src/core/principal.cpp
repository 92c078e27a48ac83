#include "core/principal.h"

#include <array>
#include <string_view>

namespace renkei {
namespace {
constexpr std::array<std::string_view, 8> kFacilityTypes = {
    "hospital",        "clinic",  "dental-clinic", "pharmacy",
    "fire-department", "insurer", "ministry",      "research"};
constexpr std::array<std::string_view, 7> kQualifications = {
    "physician", "dentist", "pharmacist", "nurse", "paramedic", "clerk", "none"};
}  // namespace

std::string_view ToString(FacilityType t) {
  return kFacilityTypes[static_cast<size_t>(t)];
}
std::string_view ToString(Qualification q) {
  return kQualifications[static_cast<size_t>(q)];
}

bool ParseFacilityType(std::string_view text, FacilityType& out) {
  for (size_t i = 0; i < kFacilityTypes.size(); ++i) {
    if (kFacilityTypes[i] == text) {
      out = static_cast<FacilityType>(i);
      return true;
    }
  }
  return false;
}

bool ParseQualification(std::string_view text, Qualification& out) {
  for (size_t i = 0; i < kQualifications.size(); ++i) {
    if (kQualifications[i] == text) {
      out = static_cast<Qualification>(i);
      return true;
    }
  }
  return false;
}

bool IsClinicallyQualified(Qualification q) {
  return q == Qualification::kPhysician || q == Qualification::kDentist ||
         q == Qualification::kPharmacist || q == Qualification::kNurse ||
         q == Qualification::kParamedic;
}

}  // namespace renkei
