dofile(os.getenv("RENKEI_WRK_DIR") .. "/report.lua")
-- POST /fhir/Coverage/$verify-eligibility by insurance numbers, rotating over the insured
-- persons listed in RENKEI_MEMBERS (lines "insurer,symbol,number,branch").
local members = {}
local token = os.getenv("RENKEI_TOKEN")
for line in io.lines(os.getenv("RENKEI_MEMBERS")) do members[#members + 1] = line end
local counter = 0
local thread_offset = 0

function setup(thread)
  thread:set("thread_offset", math.random(1, #members))
end

local function param(name, value)
  return string.format('{"name":"%s","valueString":"%s"}', name, value)
end

function request()
  counter = counter + 1
  local m = members[((thread_offset + counter * 7919) % #members) + 1]
  local insurer, symbol, number, branch = m:match("([^,]*),([^,]*),([^,]*),([^,]*)")
  local body = '{"resourceType":"Parameters","parameter":[' .. param("insurer", insurer) .. "," ..
      param("symbol", symbol) .. "," .. param("number", number) .. "," .. param("branch", branch) .. "]}"
  return wrk.format("POST", "/fhir/Coverage/$verify-eligibility", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/fhir+json",
  }, body)
end
