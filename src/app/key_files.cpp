#include "app/key_files.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/json.h"

namespace renkei::app {

std::string PractitionerKeyPath(std::string_view dir, std::string_view practitioner_id) {
  return std::string(dir) + "/practitioners/" + std::string(practitioner_id) + ".jwk";
}

std::string CardKeyPath(std::string_view dir, std::string_view patient_id) {
  return std::string(dir) + "/cards/" + std::string(patient_id) + ".jwk";
}

namespace {
Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kNotFound, "cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

Result<KeyFile> ReadKeyFile(const std::string& path) {
  RK_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  RK_ASSIGN_OR_RETURN(json::object jwk, json::ParseObject(text, Limits{}));
  auto kid = json::GetString(jwk, "kid");
  auto alg = json::GetString(jwk, "alg");
  if (!kid || !alg) return Error(ErrorCode::kInvalid, path + " lacks kid or alg");
  RK_ASSIGN_OR_RETURN(auth::KeyPair key, auth::KeyFromJwk(text));
  return KeyFile{std::move(key), std::string(*kid), std::string(*alg)};
}

Status WriteKeyFile(const std::string& path, const std::string& private_jwk) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) return Error(ErrorCode::kInternal, "cannot create the directory of " + path);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) return Error(ErrorCode::kInternal, "cannot write " + path);
    out << private_jwk;
  }
  ::chmod(path.c_str(), 0600);
  return Ok();
}

Result<std::string> FacilityOfPractitioner(std::string_view dir, std::string_view practitioner_id) {
  // practitioners.tsv (id, qualification, facility type, facility code) is read instead of the
  // JSON manifest because the manifest of a large seed is big.
  std::ifstream in(std::string(dir) + "/practitioners.tsv");
  if (!in) return Error(ErrorCode::kNotFound, "no practitioners.tsv in " + std::string(dir));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, qualification, type, code;
    std::getline(fields, id, '\t');
    std::getline(fields, qualification, '\t');
    std::getline(fields, type, '\t');
    std::getline(fields, code, '\t');
    if (id == practitioner_id) return code;
  }
  return Error(ErrorCode::kNotFound,
               "practitioner not in the manifest: " + std::string(practitioner_id));
}

}  // namespace renkei::app
