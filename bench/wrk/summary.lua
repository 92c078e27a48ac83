dofile(os.getenv("RENKEI_WRK_DIR") .. "/rotate.lua")
-- GET /fhir/Patient/{id}/$summary by a clinic physician holding the card consent of each
-- patient in RENKEI_IDS: every request loads the patient's facts, decides, runs the four
-- scope-narrowed item queries and is audited before it answers.
local token = os.getenv("RENKEI_TOKEN")
local ids = read_lines("RENKEI_IDS")

function request()
  local id = next_of(ids)
  return wrk.format("GET", "/fhir/Patient/" .. id .. "/$summary", {
    ["Authorization"] = "Bearer " .. token,
    ["Accept"] = "application/fhir+json",
  })
end
