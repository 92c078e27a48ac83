-- Shared by the load scripts: lists read from files named by environment variables, and a
-- rotation over a list that starts at a random offset per wrk thread, so the requests spread
-- over the whole dataset.
dofile(os.getenv("RENKEI_WRK_DIR") .. "/report.lua")

function read_lines(env_name)
  local list = {}
  for line in io.lines(os.getenv(env_name)) do list[#list + 1] = line end
  return list
end

counter = 0
thread_offset = 0

function setup(thread)
  thread:set("thread_offset", math.random(1, 1000000))
end

-- The next element of list for this thread (a stride prime to any list length of interest).
function next_of(list)
  counter = counter + 1
  return list[((thread_offset + counter * 7919) % #list) + 1]
end

-- "insurer,symbol,number,branch" (RENKEI_MEMBERS lines) -> its parts.
function member_parts(line)
  return line:match("([^,]*),([^,]*),([^,]*),([^,]*)")
end

-- The insured-person identifier insurer:symbol:number:branch of a RENKEI_MEMBERS line.
function member_id(line)
  local insurer, symbol, number, branch = member_parts(line)
  return insurer .. ":" .. symbol .. ":" .. number .. ":" .. branch
end
