// Keys shared by the auth tests: generating an RSA 3072 key takes a while, so each suite
// makes its keys once.
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>
#include <string_view>

#include "auth/keys.h"
#include "store/store.h"

namespace renkei::auth::testkeys {

// A fresh key for alg; fails the test when generation fails.
inline KeyPair MakeKey(std::string_view alg) {
  auto key = GenerateKey(alg);
  EXPECT_TRUE(key.ok()) << (key.ok() ? "" : key.error().ToString());
  return std::move(key).value();
}

// RSA keys shared by a test process: 2048 bits (the smallest accepted), since CTest runs
// every test in its own process and RSA key generation dominates the suite's time otherwise.
// GenerateKey's own 3072-bit keys are tested in keys_test.cpp.
inline KeyPair MakeRsa2048() {
  KeyPair key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  EXPECT_NE(key.get(), nullptr);
  return key;
}
inline const KeyPair& SharedRsaKey() {
  static const KeyPair key = MakeRsa2048();
  return key;
}
inline const KeyPair& OtherRsaKey() {
  static const KeyPair key = MakeRsa2048();
  return key;
}

// The store record registering key's public half.
inline store::KeyRecord RecordFor(const KeyPair& key, std::string_view owner_kind,
                                  std::string_view owner_id, std::string_view kid) {
  store::KeyRecord r;
  r.owner_kind = owner_kind;
  r.owner_id = owner_id;
  r.kid = kid;
  r.alg = std::string(ToString(*key.Alg()));
  r.public_jwk = PublicJwk(key, kid);
  return r;
}

}  // namespace renkei::auth::testkeys
