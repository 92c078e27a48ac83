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

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_s=%.2f rps=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d non2xx=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
