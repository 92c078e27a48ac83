// The demo key directory written by `renkei seed` and read by `renkei token` and
// `renkei card sign`: DIR/practitioners/<id>.jwk and DIR/cards/<patient-id>.jwk hold private
// JWKs (with "kid" and "alg"); DIR/manifest.json lists what was seeded. These files stand in
// for the keys a facility's system and a patient's card hold; the server never sees them.
#pragma once

#include <string>
#include <string_view>

#include "auth/keys.h"
#include "core/status.h"

namespace renkei::app {

struct KeyFile {
  auth::KeyPair key;
  std::string kid;
  std::string alg;
};

std::string PractitionerKeyPath(std::string_view dir, std::string_view practitioner_id);
std::string CardKeyPath(std::string_view dir, std::string_view patient_id);

Result<KeyFile> ReadKeyFile(const std::string& path);
// Writes a private JWK readable by the owner only (0600).
Status WriteKeyFile(const std::string& path, const std::string& private_jwk);

// The facility a practitioner belongs to, from DIR/manifest.json.
Result<std::string> FacilityOfPractitioner(std::string_view dir, std::string_view practitioner_id);

}  // namespace renkei::app
