// Attachments of documents (issue 5 "Attachments go to a blob store referenced by hash"): a
// content-addressed file store under the data directory, <root>/ab/cdef... by SHA-256, written
// atomically (temporary file, fsync, rename), with a per-attachment size limit and the allowed
// content types. The database keeps only metadata (content type, size, hash).
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"

namespace renkei::clinical {

// Default largest attachment (bytes, decoded).
inline constexpr size_t kDefaultMaxAttachmentBytes = 20 * 1024 * 1024;

// A stored blob: its lower-case hex SHA-256 (the name by which it is found) and size.
struct BlobInfo {
  std::string sha256;
  size_t size = 0;
};

// True for 64 lower-case hex digits (a blob name; anything else never touches the disk).
bool IsBlobName(std::string_view sha256);

// Where a server keeps attachments unless told otherwise (--blob-dir): beside a SQLite
// database file ("<file>.blobs"). nullopt for PostgreSQL and in-memory SQLite: there is no
// file to sit beside, and a temporary directory would lose attachments, so the server asks
// for a durable directory shared by every node. The server and `renkei retention run` use
// the same rule.
std::optional<std::filesystem::path> DefaultBlobRoot(std::string_view db_url);
// --blob-dir when given, else DefaultBlobRoot(db_url); kInvalid naming the option when neither.
Result<std::filesystem::path> BlobRootFor(std::string_view db_url, std::string_view blob_dir);

// How long an attachment must have been left alone before retention releases it.
inline constexpr std::chrono::seconds kBlobReleaseIdle = std::chrono::hours(1);

class BlobStore {
 public:
  // Creates root (and its temporary directory) when missing. kUnavailable when it cannot.
  static Result<std::unique_ptr<BlobStore>> Open(std::filesystem::path root,
                                                 size_t max_bytes = kDefaultMaxAttachmentBytes);

  // Stores bytes of the given content type (IsAllowedAttachmentType, document.h) and returns
  // its name. kTooLarge beyond max_bytes(), kUnsupportedMedia for another type. Storing the
  // same bytes again is a no-op returning the same name. Durable once it returns.
  Result<BlobInfo> Put(std::string_view content_type, std::string_view bytes);
  // The bytes of a blob; kNotFound when absent (or the name is not a SHA-256).
  Result<std::string> Get(std::string_view sha256) const;
  // Whether the blob is present.
  Result<bool> Exists(std::string_view sha256) const;
  // Deletes a blob; absent blobs are fine.
  Status Remove(std::string_view sha256);
  // Deletes a blob that nobody put for `idle` (Put of existing bytes renews it). Retention
  // releases attachments this way: a document submitted between the sweeper's "no document
  // references it" and the removal has put the same bytes moments before, so its file stays
  // (at worst an unreferenced file is left for a later cleanup, never a referenced one lost).
  // now: the deciding instant (a simulated one under `renkei retention run --now`).
  Status RemoveIfIdle(std::string_view sha256, std::chrono::seconds idle, TimePoint now);

  size_t max_bytes() const { return max_bytes_; }
  const std::filesystem::path& root() const { return root_; }

 private:
  BlobStore(std::filesystem::path root, size_t max_bytes);
  std::filesystem::path PathOf(std::string_view sha256) const;

  std::filesystem::path root_;
  size_t max_bytes_;
};

}  // namespace renkei::clinical
