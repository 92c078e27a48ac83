dofile(os.getenv("RENKEI_WRK_DIR") .. "/report.lua")
-- GET /fhir/Patient/{id} over a list of patient ids (one per line in RENKEI_IDS), each
-- connection starting at a different offset so the reads spread over the whole dataset.
-- Every read goes through the access decision: it is an emergency read (ETREAT) by a physician
-- of a hospital receiving emergency patients, so each request loads the patient's facts
-- (consents, restrictions, declarations), decides, and is audited before it answers.
local ids = {}
local token = os.getenv("RENKEI_TOKEN")
for line in io.lines(os.getenv("RENKEI_IDS")) do ids[#ids + 1] = line end
local counter = 0
local thread_offset = 0

function setup(thread)
  thread:set("thread_offset", math.random(1, #ids))
end

function request()
  counter = counter + 1
  local id = ids[((thread_offset + counter * 7919) % #ids) + 1]
  return wrk.format("GET", "/fhir/Patient/" .. id, {
    ["Authorization"] = "Bearer " .. token,
    ["Accept"] = "application/fhir+json",
    ["X-Purpose-Of-Use"] = "ETREAT",
    ["X-Access-Reason"] = "%E6%95%91%E6%80%A5%E6%90%AC%E9%80%81",
    ["X-Consent"] = "cannot-obtain",
  })
end
