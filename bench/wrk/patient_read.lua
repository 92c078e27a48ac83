dofile(os.getenv("RENKEI_WRK_DIR") .. "/rotate.lua")
-- GET /fhir/Patient/{id} over a list of patient ids (one per line in RENKEI_IDS), each
-- connection starting at a different offset so the reads spread over the whole dataset.
-- Every read goes through the access decision: it is an emergency read (ETREAT) by a physician
-- of a hospital receiving emergency patients, so each request loads the patient's facts
-- (consents, restrictions, declarations), decides, and is audited before it answers.
local token = os.getenv("RENKEI_TOKEN")
local ids = read_lines("RENKEI_IDS")

function request()
  local id = next_of(ids)
  return wrk.format("GET", "/fhir/Patient/" .. id, {
    ["Authorization"] = "Bearer " .. token,
    ["Accept"] = "application/fhir+json",
    ["X-Purpose-Of-Use"] = "ETREAT",
    ["X-Access-Reason"] = "%E6%95%91%E6%80%A5%E6%90%AC%E9%80%81",
    ["X-Consent"] = "cannot-obtain",
  })
end
