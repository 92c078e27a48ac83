dofile(os.getenv("RENKEI_WRK_DIR") .. "/rotate.lua")
-- POST /fhir/MedicationRequest/$check: a pharmacist's check of 3 candidate drugs for patients
-- rotating over RENKEI_IDS, each against the patient's prescriptions of the last 100 days
-- (renkei seed-history: about 5 drugs per patient). Without the patient's consent the answer
-- names no other drug, but the check itself runs in full; every check is audited.
local token = os.getenv("RENKEI_TOKEN")
local ids = read_lines("RENKEI_IDS")
-- Common internal drugs: amlodipine (two products of one ingredient), loxoprofen, famotidine.
local candidates = {"2171022F2025", "2171022F2041", "1149019F1560", "2325003F2020"}

local function medication(code)
  return '{"name":"medication","part":[{"name":"code","valueCode":"' .. code ..
      '"},{"name":"daysSupply","valueInteger":14}]}'
end

function request()
  local id = next_of(ids)
  local a = candidates[(counter % #candidates) + 1]
  local b = candidates[((counter + 1) % #candidates) + 1]
  local c = candidates[((counter + 2) % #candidates) + 1]
  local body = '{"resourceType":"Parameters","parameter":[{"name":"patient","valueReference":' ..
      '{"reference":"Patient/' .. id .. '"}},' .. medication(a) .. "," .. medication(b) .. "," ..
      medication(c) .. "]}"
  return wrk.format("POST", "/fhir/MedicationRequest/$check", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/fhir+json",
  }, body)
end
