// Server-assigned identifiers.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace renkei {

// A new resource id: a UUID version 7 (RFC 9562 §5.7) in lower-case hex with dashes, a valid
// FHIR id. Its first 48 bits are the Unix time in milliseconds, so ids made later sort later and
// new rows go to the right-hand end of every index keyed by id instead of a random page of it;
// the other 74 bits are random, so ids cannot be guessed. An id tells when it was made, which
// meta.lastUpdated says anyway.
std::string NewId();
// The same for a given instant (tests).
std::string NewIdAt(std::chrono::system_clock::time_point at);
// True when text matches the FHIR id grammar [A-Za-z0-9\-\.]{1,64}.
bool IsValidFhirId(std::string_view text);

}  // namespace renkei
