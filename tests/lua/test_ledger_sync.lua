-- Lua test: ledgers that sync between clients over addon messages (Tally's protocol), with
-- authorization at "submit", "send" and "receive", sync state events and status, and a client
-- that logs out, misses entries and catches up after logging back in. Run with 20% loss:
-- tally run tests/data/addons_host --clients 4 --faults loss=0.2 --script tests/lua/test_ledger_sync.lua
local function expect(actual, expected, what)
  if actual ~= expected then
    error(string.format("%s: expected %s, got %s", what, tostring(expected), tostring(actual)), 2)
  end
end

-- Advances 5 s at a time until `check()` is true; fails after `limit` seconds.
local function wait_for(what, limit, check)
  local waited = 0
  while not check() do
    if waited >= limit then error(what .. ": not within " .. limit .. " s", 2) end
    tally.advance(5)
    waited = waited + 5
  end
end

local clients = tally.clients()
local a, b, c, d = unpack(clients)
local setup = [[
  states, stages = {}, {}
  S = Tally.NewLedger{ name = "Shared", sync = true, initialState = function() return { sum = 0 } end,
    authorize = function(entry, sender, stage)
      stages[stage] = (stages[stage] or 0) + 1
      if stage == "send" and entry.data.secret then return false, "stays here" end
      if stage == "receive" and entry.data.forged and RefuseForged then return false, "forged" end
      return true
    end }
  S:RegisterMutator("v", function(state, data) state.sum = state.sum + data.n end)
  S:On("syncStateChanged", function(_, state) states[#states + 1] = state end)
]]
for _, cl in ipairs(clients) do cl:run(setup) end
c:run("RefuseForged = true")

-- Entries submitted on one client reach every other one (pushed within seconds).
a:run("for i = 1, 20 do S:Submit('v', { n = i }) end")
tally.advance(60)
for _, cl in ipairs(clients) do
  expect(cl:eval("return S:State().sum"), 210, cl:name() .. " has a's entries")
end
expect(b:eval("return stages.receive"), 20, "each received entry authorized at receive")
expect(a:eval("return stages.send") >= 20, true, "each sent entry authorized at send")
-- Lost adverts (20 % loss) can leave a peer's view stale for an advert interval or two.
local function peers_known() return a:eval("local n = 0 for _ in pairs(S:SyncStatus().peers) do n = n + 1 end return n") end
wait_for("a knows its three peers, all in sync", 300, function()
  return peers_known() == 3 and a:eval("return S:SyncStatus().state") == "synced"
end)
expect(a:eval("return S:SyncStatus().peers['Brannoc-Tally'].lag"), 0, "no lag")
expect(a:eval("return S:SyncStatus().sent.bytes > 0"), true, "bytes counted")
wait_for("b reports synced", 300, function() return b:eval("return states[#states]") == "synced" end)

-- Refused at receive by one client's policy only.
a:run("S:Submit('v', { n = 1000, forged = true })")
tally.advance(60)
expect(b:eval("return S:State().sum"), 1210, "b accepts it")
expect(c:eval("return S:State().sum"), 210, "c refuses it")
expect(c:eval("return S:Metrics().remote.refused") > 0, true, "c counted the refusal")

-- Withheld at send: the entry stays on its client.
b:run("S:Submit('v', { n = 5, secret = true })")
tally.advance(30)
expect(b:eval("return S:State().sum"), 1215, "b holds its secret entry")
expect(a:eval("return S:State().sum"), 1210, "a never got it")
expect(b:eval("return S:SyncStatus().counters.withheld") > 0, true, "withheld counted")

-- A client that logs out misses entries, logs back in with an empty ledger and catches up.
d:logout()
a:run("for i = 1, 30 do S:Submit('v', { n = 1 }) end")
tally.advance(30)
d:login()
d:run(setup)
expect(d:eval("return S:Size()"), 0, "a fresh session starts empty (the ledger is not persisted)")
wait_for("d catches up after logging in", 600, function() return d:eval("return S:State().sum") == 1240 end)
print("ledger sync: ok")
