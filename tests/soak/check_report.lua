-- Checks the frame times in a `tally sim --report-json` report: no client's worst frame may be
-- longer than the frame budget times the tolerance. Prints the worst frames either way.
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
-- "frame_ms_max" comes before the client's "name". Ledger objects inside hold neither key.
local clients = {}
for max, mean, name in report:gmatch('"frame_ms_max": ([-%d%.eE+]+),%s*"frame_ms_mean": ([-%d%.eE+]+).-"name": "([^"]*)"') do
  clients[#clients + 1] = { name = name, max = tonumber(max), mean = tonumber(mean) }
end
if #clients == 0 then
  io.stderr:write(path .. ": no client frame times found\n")
  os.exit(2)
end
table.sort(clients, function(a, b) return a.max > b.max end)

local over_budget, mean = 0, 0
for _, c in ipairs(clients) do
  if c.max > budget then over_budget = over_budget + 1 end
  mean = mean + c.mean / #clients
end
local worst = clients[1]
print(string.format("frames: mean %.3f ms; worst %.2f ms (%s), then %s; %d of %d clients had a frame over the %.1f ms" ..
                    " budget", mean, worst.max, worst.name,
                    clients[2] and string.format("%.2f ms (%s)", clients[2].max, clients[2].name) or "none",
                    over_budget, #clients, budget))
if worst.max > budget * tolerance then
  io.stderr:write(string.format("%s's worst frame took %.2f ms: over %.1f ms (budget %.1f ms x tolerance %g)\n",
                                worst.name, worst.max, budget * tolerance, budget, tolerance))
  os.exit(1)
end
