-- Lua test: the HostProbe addon in three clients, driven by a scenario.
-- Run: tally run tests/data/addons_host --clients 3 --script tests/lua/test_scenario_probe.lua
local function expect(actual, expected, what)
  if actual ~= expected then
    error(string.format("%s: expected %s, got %s", what, tostring(expected), tostring(actual)), 2)
  end
end

local clients = tally.clients()
expect(#clients, 3, "clients")
local a, b = clients[1], clients[2]
expect(a:name(), "Aelric", "first client's name")

-- Login order reached the addon.
expect(a:eval("return HostProbeDB.runs"), 1, "runs after first login")

-- Slash commands, case-insensitive, with the rest of the line.
expect(b:slash("/HP hello there"), true, "slash handled")
local log = b:log()
expect(log[#log], "slash:hello there ticks=0", "slash output")

-- The ticker fires three times over three seconds, then stops.
tally.advance(5)
expect(a:eval("local _, ns = 'x', nil; return HostProbeCharDB ~= nil"), true, "per-character table")
b:slash("/probe later")
log = b:log()
expect(log[#log], "slash:later ticks=3", "ticks after 5 s")
expect(math.abs(tally.now() - 5) < 1e-9, true, "virtual clock")

-- Events fired from the scenario reach frames.
a:run([[
  local f = CreateFrame("Frame")
  f:RegisterEvent("TEST_EVENT")
  f:SetScript("OnEvent", function(_, event, x, y) LastEvent = event .. ":" .. tostring(x) .. ":" .. tostring(y) end)
]])
a:fire("TEST_EVENT", 7, "seven")
expect(a:eval("return LastEvent"), "TEST_EVENT:7:seven", "fired event")

-- Errors inside a client come back from eval.
local ok, err = pcall(a.eval, a, "error('inside')")
expect(ok, false, "eval error")
expect(err:find("inside", 1, true) ~= nil, true, "eval error text")

-- No client logged an error.
for _, c in ipairs(clients) do expect(#c:log(true), 0, c:name() .. " errors") end
