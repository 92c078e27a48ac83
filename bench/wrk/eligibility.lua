dofile(os.getenv("RENKEI_WRK_DIR") .. "/rotate.lua")
-- POST /fhir/Coverage/$verify-eligibility by insurance numbers, rotating over the insured
-- persons listed in RENKEI_MEMBERS (lines "insurer,symbol,number,branch").
local token = os.getenv("RENKEI_TOKEN")
local members = read_lines("RENKEI_MEMBERS")

local function param(name, value)
  return string.format('{"name":"%s","valueString":"%s"}', name, value)
end

function request()
  local m = next_of(members)
  local insurer, symbol, number, branch = member_parts(m)
  local body = '{"resourceType":"Parameters","parameter":[' .. param("insurer", insurer) .. "," ..
      param("symbol", symbol) .. "," .. param("number", number) .. "," .. param("branch", branch) .. "]}"
  return wrk.format("POST", "/fhir/Coverage/$verify-eligibility", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/fhir+json",
  }, body)
end
