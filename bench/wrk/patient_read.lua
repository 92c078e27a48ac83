dofile(os.getenv("RENKEI_WRK_DIR") .. "/report.lua")
-- GET /fhir/Patient/{id} over a list of patient ids (one per line in RENKEI_IDS), each
-- connection starting at a different offset so the reads spread over the whole dataset.
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
  })
end
