-- Checks the frame times in a `tally sim --report-json` report: no client's worst frame, in the
-- host thread's CPU time, may be longer than the frame budget times the tolerance. CPU time
-- leaves out what the machine's scheduler gave to other processes, which would otherwise fail a
-- run on a busy machine through no fault of the code; the worst wall-clock frames are printed
-- beside it. Prints the worst frames either way.
--   luajit tests/soak/check_report.lua <report.json> <budget ms> <tolerance>
local path, budget, tolerance = arg[1], tonumber(arg[2]), tonumber(arg[3])
if not (path and budget and tolerance) then
  io.stderr:write("usage: luajit check_report.lua <report.json> <budget ms> <tolerance>\n")
  os.exit(2)
end
local f = assert(io.open(path))
local report = f:read("*a")
f:close()

-- The report is nlohmann::json's dump(2): each client object lists its keys in sorted order, so
-- the frame figures come before the client's "name". Ledger objects inside hold none of them.
local number = "([-%d%.eE+]+)"
local clients = {}
for cpu, max, mean, name in report:gmatch('"frame_cpu_ms_max": ' .. number .. ',%s*"frame_ms_max": ' .. number ..
                                          ',%s*"frame_ms_mean": ' .. number .. '.-"name": "([^"]*)"') do
  clients[#clients + 1] = { name = name, cpu = tonumber(cpu), max = tonumber(max), mean = tonumber(mean) }
end
if #clients == 0 then
  io.stderr:write(path .. ": no client frame times found\n")
  os.exit(2)
end

local function worst_two(field)
  table.sort(clients, function(a, b) return a[field] > b[field] end)
  local second = clients[2] and string.format("%.2f ms (%s)", clients[2][field], clients[2].name) or "none"
  return clients[1], second
end

local over_budget, mean = 0, 0
for _, c in ipairs(clients) do
  if c.cpu > budget then over_budget = over_budget + 1 end
  mean = mean + c.mean / #clients
end
local wall, wall_second = worst_two("max")
local worst, second = worst_two("cpu")
print(string.format("frames: mean %.3f ms; worst in CPU time %.2f ms (%s), then %s; worst in wall time %.2f ms (%s)," ..
                    " then %s; %d of %d clients had a frame over the %.1f ms budget in CPU time",
                    mean, worst.cpu, worst.name, second, wall.max, wall.name, wall_second, over_budget, #clients,
                    budget))
if worst.cpu > budget * tolerance then
  io.stderr:write(string.format("%s's worst frame took %.2f ms of CPU time: over %.1f ms (budget %.1f ms x tolerance %g)\n",
                                worst.name, worst.cpu, budget * tolerance, budget, tolerance))
  os.exit(1)
end
