-- Lua test: the replay scheduler as addons see it: mutator failure and recovery, the remote
-- queue with authorization at "receive", duplicates, lag, and listeners.
-- Run: tally run tests/data/addons_host --clients 3 --script tests/lua/test_ledger_replay.lua
local function expect(actual, expected, what)
  if actual ~= expected then
    error(string.format("%s: expected %s, got %s", what, tostring(expected), tostring(actual)), 2)
  end
end

local a, b, c = unpack(tally.clients())
local frame = 1 / 60

-- A failing mutator: the partly applied entry is rolled back, replay waits at the entry
-- boundary, and resumes when the entry is ignored or the mutator replaced.
a:run([[
  events = {}
  L = Tally.NewLedger{ name = "Fails", frameBudgetMs = 0, batchSize = 1000, checkpointEvery = 4 }
  L:On("mutatorFailed", function(_, err) events[#events + 1] = "failed" end)
  L:On("restart", function() events[#events + 1] = "restart" end)
  L:RegisterMutator("add", function(state, data)
    state.total = (state.total or 0) + 1          -- a change made before the error...
    if data.bad then error("bad entry") end
    state.sum = (state.sum or 0) + data.n
  end)
  for i = 1, 10 do L:Submit("add", { n = i }) end
  bad = L:Submit("add", { n = 100, bad = true })
  for i = 11, 12 do L:Submit("add", { n = i }) end
]])
tally.advance(frame)
expect(a:eval("return table.concat(events, ',')"), "restart,failed", "failure reported once, after a rollback")
tally.advance(frame * 3)
-- ...is not in the state: exactly the 10 entries before the failed one are.
expect(a:eval("return L:State().total, L:State().sum"), 10, "state holds the entries before the failure")
expect(a:eval("return L:State().sum"), 55, "their sum")
expect(a:eval("return (L:Lag())"), 3, "the failed entry and the two after it wait")
tally.advance(frame * 3)
expect(a:eval("return table.concat(events, ',')"), "restart,failed", "no retry while nothing changed")
a:run("undo = L:Ignore(bad)")
tally.advance(frame * 3)
expect(a:eval("return L:State().sum, (L:Lag())"), 55 + 11 + 12, "resumed after the ignore")
expect(a:eval("return (L:Lag())"), 0, "caught up")
-- Replacing the mutator also resumes (from the start: every entry of the type is re-applied).
a:run("L:Ignore(undo)")                         -- redo: the bad entry counts again and fails
tally.advance(frame * 3)
expect(a:eval("return (L:Lag()) > 0"), true, "stopped again at the restored entry")
a:run([[L:RegisterMutator("add", function(state, data) state.sum = (state.sum or 0) + data.n end)]])
tally.advance(frame * 3)
expect(a:eval("return L:State().sum, (L:Lag())"), 55 + 100 + 11 + 12, "the new mutator applies it")

-- The remote queue: entries from another client are authorized with stage "receive" and the
-- sender's name, then committed over the next frames.
local setup = [[
  stages = {}
  S = Tally.NewLedger{ name = "Shared", frameBudgetMs = 2, initialState = function() return { sum = 0 } end,
    authorize = function(entry, sender, stage)
      stages[stage] = (stages[stage] or 0) + 1
      LastSender = sender
      if entry.data.forged then return false, "forged" end
      return true
    end }
  S:RegisterMutator("v", function(state, data) state.sum = state.sum + data.n end)
]]
a:run(setup)
b:run(setup)
c:run(setup)
-- (one creator has 256 counters per second: submit over two seconds)
a:run("for i = 1, 150 do S:Submit('v', { n = i }) end")
tally.advance(1)
a:run("for i = 151, 300 do S:Submit('v', { n = i }) end")
tally.advance(frame)
expect(tally.share(a, b, "Shared", 1), 300, "queued at b")
expect(b:eval("return select(2, S:Lag())"), 300, "lag counts uncommitted entries")
tally.advance(frame * 30)
expect(b:eval("return select(2, S:Lag())"), 0, "committed")
expect(b:eval("return S:State().sum"), 300 * 301 / 2, "replayed")
expect(b:eval("return stages.receive"), 300, "each received entry authorized once")
expect(b:eval("return LastSender"), "Aelric-Tally", "the sender's full name")
expect(b:eval("return S:StateHash()"), a:eval("return S:StateHash()"), "same state hash as the sender")
-- Sharing again: all duplicates, dropped without asking.
tally.share(a, b, "Shared", 2)
tally.advance(frame * 5)
expect(b:eval("return S:Metrics().remote.duplicates"), 300, "duplicates counted")
expect(b:eval("return stages.receive"), 300, "duplicates are not authorized again")
-- A refused entry: b submits one c's policy refuses; c commits the rest.
b:run("S:Submit('v', { n = 1000, forged = true })")
-- b's own policy refuses it too: its authorize ran at submit.
expect(b:eval("return S:Size()"), 300, "refused at submit")
c:run("stages = {}")
a:run("S:Submit('v', { n = 7 })")
tally.advance(frame)
tally.share(a, c, "Shared", 3)
tally.advance(frame * 30)
expect(c:eval("return S:Size(), S:State().sum"), 301, "c holds a's entries")
expect(c:eval("return S:State().sum"), 300 * 301 / 2 + 7, "and their sum")

-- Refusal at "receive": an entry a accepted that c's stricter policy refuses.
c:run([[S2 = Tally.NewLedger{ name = "Strict", authorize = function(e, s, stage) return stage ~= "receive" or e.data.n < 5, "too big" end }]])
a:run([[S2 = Tally.NewLedger{ name = "Strict" } for i = 1, 8 do S2:Submit("v", { n = i }) end]])
tally.share(a, c, "Strict")
tally.advance(frame * 5)
expect(c:eval("return S2:Size()"), 4, "only the authorized entries are committed")
expect(c:eval("return S2:Metrics().remote.refused"), 4, "refusals counted")

-- A large catch-up is spread over frames: 50,000 entries do not commit in one frame.
a:run([[Big = Tally.NewLedger{ name = "Big", frameBudgetMs = 2 }]])
for second = 0, 199 do
  a:run("for i = 1, 250 do Big:Submit('v', { n = i }) end")
  tally.advance(1)
end
c:run([[Big = Tally.NewLedger{ name = "Big", frameBudgetMs = 2 } Big:RegisterMutator("v", function() end)]])
tally.share(a, c, "Big", 4)
tally.advance(frame)
local pending = c:eval("return select(2, Big:Lag())")
expect(pending > 0 and pending < 50000, true, "part of the queue committed in the first frame")
local frames = 0
while c:eval("return select(2, Big:Lag()) + Big:Lag()") > 0 and frames < 100000 do
  tally.advance(frame)
  frames = frames + 1
end
expect(c:eval("return Big:Size()"), 50000, "everything committed")
expect(c:eval("return Big:StateHash()"), a:eval("return Big:StateHash()"), "same hash")
print(string.format("ledger replay: ok (50,000 received entries committed and applied over %d frames)", frames + 1))
