dofile(os.getenv("RENKEI_WRK_DIR") .. "/rotate.lua")
-- POST /fhir/Bundle/$register-items: JP-CLINS bundles of 10 Conditions (RENKEI_TEMPLATE, with
-- __MEMBER__ and __LOCALID__ placeholders) for insured persons rotating over RENKEI_MEMBERS
-- (lines "insurer,symbol,number,branch"), each under a new bundle identifier: validated,
-- matched to the registry patient, stored with its index terms and audited.
local token = os.getenv("RENKEI_TOKEN")
local members = read_lines("RENKEI_MEMBERS")
local file = io.open(os.getenv("RENKEI_TEMPLATE"), "rb")
local template = file:read("*a")
file:close()
thread_tag = "t"

local thread_number = 0
-- Besides the offset, each thread names its bundle identifiers with its own tag.
function setup(thread)
  thread_number = thread_number + 1
  thread:set("thread_offset", math.random(1, #members))
  thread:set("thread_tag", string.format("b%d-%d", os.time() % 100000, thread_number))
end

function request()
  local m = next_of(members)
  local member = member_id(m)
  local body = template:gsub("__MEMBER__", member):gsub("__LOCALID__", thread_tag .. "-" .. counter)
  return wrk.format("POST", "/fhir/Bundle/$register-items", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/fhir+json",
  }, body)
end
