dofile(os.getenv("RENKEI_WRK_DIR") .. "/rotate.lua")
-- POST /fhir/MedicationRequest/$prescribe: a physician's prescription of 2 drugs for insured
-- persons rotating over RENKEI_MEMBERS (lines "insurer,symbol,number,branch"): codes validated,
-- the check run against the patient's history, the prescription stored with its access code,
-- audited.
local token = os.getenv("RENKEI_TOKEN")
local members = read_lines("RENKEI_MEMBERS")

local function item(code)
  return '{"resource":{"resourceType":"MedicationRequest","status":"active","intent":"order",' ..
      '"medicationCodeableConcept":{"coding":[{"system":"http://capstandard.jp/iyaku.info/CodeSystem/YJ-code",' ..
      '"code":"' .. code .. '"}]},"dosageInstruction":[{"text":"1日1回朝食後"}],' ..
      '"dispenseRequest":{"expectedSupplyDuration":{"value":14,"unit":"日",' ..
      '"system":"http://unitsofmeasure.org","code":"d"}}}}'
end

function request()
  local m = next_of(members)
  local member = member_id(m)
  local body = '{"resourceType":"Bundle","type":"document","entry":[' ..
      '{"resource":{"resourceType":"Patient","identifier":[{"system":' ..
      '"http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID","value":"' .. member .. '"}]}},' ..
      item("2171022F2025") .. "," .. item("2325003F2020") .. "]}"
  return wrk.format("POST", "/fhir/MedicationRequest/$prescribe", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/fhir+json",
  }, body)
end
