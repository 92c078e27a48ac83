// The blob store of document attachments (blob_store.h): content-addressed, atomic writes,
// the per-attachment size limit and the allowed content types; where a server keeps it.
#include "clinical/blob_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "core/crypto.h"

namespace renkei::clinical {
namespace {

namespace fs = std::filesystem;

// The blob store alone.
class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("renkei-blobs-" + std::to_string(std::random_device{}()));
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

TEST_F(BlobStoreTest, StoresByHashAtomicallyAndRemoves) {
  auto blobs = BlobStore::Open(dir_, 1024);
  ASSERT_TRUE(blobs.ok());
  auto put = (*blobs)->Put("application/pdf", "%PDF-1.4 test");
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  EXPECT_EQ(put->sha256, crypto::Sha256Hex("%PDF-1.4 test"));
  EXPECT_EQ(put->size, 13u);
  EXPECT_TRUE(fs::exists(dir_ / put->sha256.substr(0, 2) / put->sha256.substr(2)));
  EXPECT_TRUE(fs::is_empty(dir_ / "tmp"));  // the temporary file was renamed into place
  EXPECT_EQ(*(*blobs)->Get(put->sha256), "%PDF-1.4 test");
  // Content-addressed: the same bytes again are the same blob.
  EXPECT_EQ((*blobs)->Put("application/pdf", "%PDF-1.4 test")->sha256, put->sha256);
  EXPECT_TRUE(*(*blobs)->Exists(put->sha256));
  ASSERT_TRUE((*blobs)->Remove(put->sha256).ok());
  EXPECT_FALSE(*(*blobs)->Exists(put->sha256));
  EXPECT_EQ((*blobs)->Get(put->sha256).error().code(), ErrorCode::kNotFound);
  EXPECT_TRUE((*blobs)->Remove(put->sha256).ok());
  // Names that are not SHA-256 hex never reach the file system.
  EXPECT_EQ((*blobs)->Get("../tmp").error().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(IsBlobName(std::string(64, 'A')));
}

TEST(BlobRoot, SitsBesideASqliteFileElseMustBeGiven) {
  EXPECT_EQ(DefaultBlobRoot("sqlite:/var/lib/renkei/renkei.db?synchronous=normal"),
            fs::path("/var/lib/renkei/renkei.db.blobs"));
  EXPECT_EQ(DefaultBlobRoot("/data/r.db"), fs::path("/data/r.db.blobs"));
  EXPECT_EQ(DefaultBlobRoot("postgresql://u:secret@db/renkei"), std::nullopt);
  EXPECT_EQ(DefaultBlobRoot("host=db dbname=renkei"), std::nullopt);
  EXPECT_EQ(DefaultBlobRoot("sqlite::memory:"), std::nullopt);
  EXPECT_EQ(*BlobRootFor("postgresql://db/renkei", "/srv/blobs"), fs::path("/srv/blobs"));
  EXPECT_EQ(*BlobRootFor("sqlite:/d/r.db", ""), fs::path("/d/r.db.blobs"));
  auto missing = BlobRootFor("postgresql://u:secret@db/renkei", "");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("--blob-dir"), std::string::npos);
  EXPECT_EQ(missing.error().message().find("secret"), std::string::npos);
}

TEST_F(BlobStoreTest, ReleasingKeepsABlobPutAgainMeanwhile) {
  auto blobs = BlobStore::Open(dir_);
  ASSERT_TRUE(blobs.ok());
  auto put = (*blobs)->Put("application/pdf", "%PDF-1.4 idle");
  ASSERT_TRUE(put.ok());
  const fs::path file = dir_ / put->sha256.substr(0, 2) / put->sha256.substr(2);
  ASSERT_TRUE(fs::exists(file)) << file;
  // Just put: kept.
  ASSERT_TRUE((*blobs)->RemoveIfIdle(put->sha256, std::chrono::hours(1), SystemClock().Now()).ok());
  EXPECT_TRUE(*(*blobs)->Exists(put->sha256));
  // Idle for two hours: released.
  fs::last_write_time(file, fs::file_time_type::clock::now() - std::chrono::hours(2));
  ASSERT_TRUE((*blobs)->RemoveIfIdle(put->sha256, std::chrono::hours(1), SystemClock().Now()).ok());
  EXPECT_FALSE(*(*blobs)->Exists(put->sha256));
  // Put again: an old file of the same bytes is renewed, so a racing release leaves it.
  ASSERT_TRUE((*blobs)->Put("application/pdf", "%PDF-1.4 idle").ok());
  fs::last_write_time(file, fs::file_time_type::clock::now() - std::chrono::hours(2));
  ASSERT_TRUE((*blobs)->Put("application/pdf", "%PDF-1.4 idle").ok());
  ASSERT_TRUE((*blobs)->RemoveIfIdle(put->sha256, std::chrono::hours(1), SystemClock().Now()).ok());
  EXPECT_TRUE(*(*blobs)->Exists(put->sha256));
  EXPECT_TRUE(
      (*blobs)->RemoveIfIdle("../../etc/passwd", std::chrono::hours(1), SystemClock().Now()).ok());
}

TEST_F(BlobStoreTest, RefusesOversizedAndDisallowedContent) {
  auto blobs = BlobStore::Open(dir_, 16);
  ASSERT_TRUE(blobs.ok());
  EXPECT_TRUE((*blobs)->Put("image/png", std::string(16, 'x')).ok());
  EXPECT_EQ((*blobs)->Put("image/png", std::string(17, 'x')).error().code(), ErrorCode::kTooLarge);
  EXPECT_EQ((*blobs)->Put("text/html", "<p>").error().code(), ErrorCode::kUnsupportedMedia);
  EXPECT_EQ((*blobs)->Put("application/x-msdownload", "MZ").error().code(),
            ErrorCode::kUnsupportedMedia);
  EXPECT_TRUE((*blobs)->Put("application/pdf; charset=binary", "%PDF").ok());
}

}  // namespace
}  // namespace renkei::clinical
