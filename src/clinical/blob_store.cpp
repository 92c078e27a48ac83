#include "clinical/blob_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include "clinical/document.h"
#include "core/crypto.h"

namespace renkei::clinical {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kTempDir = "tmp";

// Closes a file descriptor on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

Error IoError(std::string_view what) {
  // The path names no patient (a hash); the errno text says what went wrong.
  return Error(ErrorCode::kUnavailable,
               fmt::format("blob store: {}: {}", what, std::strerror(errno)));
}

// fsync of a directory, so that a rename inside it survives a crash (POSIX leaves the entry
// to the directory's own sync).
Status SyncDirectory(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return IoError("open directory");
  if (::fsync(fd.get()) != 0) return IoError("fsync directory");
  return Ok();
}

}  // namespace

bool IsBlobName(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::optional<fs::path> DefaultBlobRoot(std::string_view db_url) {
  std::string_view path = db_url;
  // "sqlite:PATH[?options]" or a bare path; libpq URLs and keyword strings ("host=...") not.
  const bool file = path.starts_with("sqlite:") ||
                    (!path.starts_with("postgres://") && !path.starts_with("postgresql://") &&
                     path.find('=') == std::string_view::npos);
  if (file && path.starts_with("sqlite:")) path.remove_prefix(7);
  path = path.substr(0, path.find('?'));
  if (file && !path.empty() && path != ":memory:") return fs::path(std::string(path) + ".blobs");
  return std::nullopt;
}

Result<fs::path> BlobRootFor(std::string_view db_url, std::string_view blob_dir) {
  if (!blob_dir.empty()) return fs::path(std::string(blob_dir));
  if (auto root = DefaultBlobRoot(db_url)) return *root;
  return Error(ErrorCode::kInvalid,
               "this database is not a file: give --blob-dir, a durable directory for document "
               "attachments (shared by every server of the database)");
}

BlobStore::BlobStore(fs::path root, size_t max_bytes)
    : root_(std::move(root)), max_bytes_(max_bytes) {}

Result<std::unique_ptr<BlobStore>> BlobStore::Open(fs::path root, size_t max_bytes) {
  std::error_code ec;
  fs::create_directories(root / kTempDir, ec);
  if (ec) {
    return Error(ErrorCode::kUnavailable,
                 fmt::format("blob store: cannot create {}: {}", root.string(), ec.message()));
  }
  return std::unique_ptr<BlobStore>(new BlobStore(std::move(root), max_bytes));
}

fs::path BlobStore::PathOf(std::string_view sha256) const {
  return root_ / std::string(sha256.substr(0, 2)) / std::string(sha256.substr(2));
}

Result<BlobInfo> BlobStore::Put(std::string_view content_type, std::string_view bytes) {
  if (!IsAllowedAttachmentType(content_type)) {
    return Error(ErrorCode::kUnsupportedMedia,
                 fmt::format("attachments are PDF, JPEG, PNG, DICOM or a FHIR document, not '{}'",
                             content_type.substr(0, 100)));
  }
  if (bytes.size() > max_bytes_) {
    return Error(ErrorCode::kTooLarge, fmt::format("an attachment is at most {} bytes ({} given)",
                                                   max_bytes_, bytes.size()));
  }
  BlobInfo info{crypto::Sha256Hex(bytes), bytes.size()};
  const fs::path target = PathOf(info.sha256);
  std::error_code ec;
  if (fs::exists(target, ec)) {
    // Content-addressed: the same bytes are there. Renewed, so that a removal of the blob as
    // unreferenced that races with this new reference leaves it (RemoveIfIdle).
    fs::last_write_time(target, fs::file_time_type::clock::now(), ec);
    if (!ec) return info;
    // Removed between the two calls: write it again below.
  }

  // Temporary file in the store's own file system, fsynced, then renamed into place: a reader
  // sees either no blob or the whole blob.
  const fs::path tmp = root_ / kTempDir / crypto::HexEncode(crypto::RandomBytes(16));
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (fd.get() < 0) return IoError("create temporary file");
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        Error e = IoError("write");
        ::unlink(tmp.c_str());
        return e;
      }
      done += static_cast<size_t>(n);
    }
    if (::fsync(fd.get()) != 0) {
      Error e = IoError("fsync");
      ::unlink(tmp.c_str());
      return e;
    }
    if (::close(fd.release()) != 0) {
      Error e = IoError("close");
      ::unlink(tmp.c_str());
      return e;
    }
  }
  fs::create_directories(target.parent_path(), ec);
  if (ec) {
    ::unlink(tmp.c_str());
    return Error(ErrorCode::kUnavailable,
                 fmt::format("blob store: cannot create a directory: {}", ec.message()));
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    Error e = IoError("rename");
    ::unlink(tmp.c_str());
    return e;
  }
  RK_TRY(SyncDirectory(target.parent_path()));
  return info;
}

Result<std::string> BlobStore::Get(std::string_view sha256) const {
  if (!IsBlobName(sha256)) return Error(ErrorCode::kNotFound, "no such attachment");
  std::ifstream in(PathOf(sha256), std::ios::binary);
  if (!in) return Error(ErrorCode::kNotFound, "no such attachment");
  std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Error(ErrorCode::kUnavailable, "blob store: cannot read an attachment");
  return out;
}

Result<bool> BlobStore::Exists(std::string_view sha256) const {
  if (!IsBlobName(sha256)) return false;
  std::error_code ec;
  bool present = fs::exists(PathOf(sha256), ec);
  if (ec) {
    return Error(ErrorCode::kUnavailable, fmt::format("blob store: {}", ec.message()));
  }
  return present;
}

Status BlobStore::Remove(std::string_view sha256) {
  if (!IsBlobName(sha256)) return Ok();
  std::error_code ec;
  fs::remove(PathOf(sha256), ec);
  if (ec) {
    return Error(ErrorCode::kUnavailable,
                 fmt::format("blob store: cannot remove: {}", ec.message()));
  }
  return Ok();
}

Status BlobStore::RemoveIfIdle(std::string_view sha256, std::chrono::seconds idle, TimePoint now) {
  if (!IsBlobName(sha256)) return Ok();
  std::error_code ec;
  const auto written = fs::last_write_time(PathOf(sha256), ec);
  if (ec) return Ok();  // absent
  if (now - std::chrono::file_clock::to_sys(written) < idle) return Ok();
  return Remove(sha256);
}

}  // namespace renkei::clinical
