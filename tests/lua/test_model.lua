-- Lua test: the programming model (Tally.Model): commands, queries, reports, repositories with
-- subscriptions, sagas across a rewind and across two clients.
-- Run: tally run tests/data/addons_host --clients 3 --script tests/lua/test_model.lua
local function expect(actual, expected, what)
  if actual ~= expected then
    error(string.format("%s: expected %s, got %s", what, tostring(expected), tostring(actual)), 2)
  end
end

local a, b = unpack(tally.clients())
local setup = [[
  L = Tally.NewLedger{ name = "Model", sync = true, frameBudgetMs = 0, batchSize = 100000,
                       initialState = function() return { points = {}, raids = 0 } end }
  M = Tally.Model(L)
  M:Mutator("award", function(state, data) state.points[data.player] = (state.points[data.player] or 0) + data.amount end)
  M:Mutator("note", function(state, data) state.note = data.text end)
  M:Mutator("raidEnd", function(state) state.raids = state.raids + 1 end)
  M:Command("awardRaid", {
    args = { amount = "number", reason = "string" },
    authorize = function(state, args) return args.amount <= 100, "at most 100 points" end,
    handler = function(state, args, emit)
      if GetNumGroupMembers() == 0 then return false, "not in a raid" end
      for i = 1, GetNumGroupMembers() do
        emit("award", { player = (GetRaidRosterInfo(i)), amount = args.amount, reason = args.reason })
      end
    end,
  })
  M:Command("broken", { handler = function(state, args, emit)
    emit("award", { player = "X", amount = 1 })
    emit("award", { player = "Y", amount = {} })   -- not a plain value: the whole command fails
  end })
  M:Query("balance", function(state, player) return state.points[player] or 0 end)
  M:Report("total", { inputs = { "award" }, compute = function(state)
    local sum = 0
    for _, v in pairs(state.points) do sum = sum + v end
    return sum
  end })
  Players = M:Repository("players", { types = { "award" }, key = function(data) return data.player end,
                                      get = function(state, player) return state.points[player] end })
  DagnaCalls, AllCalls = {}, 0
  Players:Subscribe("Cyrielle", function(changes) DagnaCalls[#DagnaCalls + 1] = changes.Cyrielle end)
  Players:Subscribe(function() AllCalls = AllCalls + 1 end)
  M:Saga("attendance", { on = "raidEnd", run = function(state, data) return "awardRaid", { amount = 5, reason = "attendance" } end })
]]
a:run(setup)
b:run(setup)

-- Commands: one command emits an entry per raid member; refusals emit nothing.
expect(a:eval("return #M:Execute('awardRaid', { amount = 10, reason = 'boss' })"), 3, "one award per raid member")
expect(select(2, a:eval("return M:Execute('awardRaid', { amount = 500, reason = 'boss' })")), "at most 100 points", "refused by the command's authorize")
expect(select(2, a:eval("return M:Execute('awardRaid', { amount = 5 })")), "awardRaid: missing argument 'reason'", "bad arguments")
expect(a:eval("return (M:Execute('broken'))"), nil, "a failing handler")
expect(a:eval("return L:Size()"), 3, "refused commands wrote nothing")
tally.advance(1 / 60)

-- Queries and reports.
expect(a:eval("return M:Ask('balance', 'Cyrielle')"), 10, "query")
expect(a:eval("return M:Value('total')"), 30, "report")
expect(select(2, a:eval("return M:Value('total')")), 1, "computed once")
a:run("L:Submit('note', { text = 'hello' })")
tally.advance(1 / 60)
expect(select(2, a:eval("return M:Value('total')")), 1, "an entry that is not an input does not recompute")
a:run("M:Execute('awardRaid', { amount = 1, reason = 'on time' })")
tally.advance(1 / 60)
expect(a:eval("return M:Value('total')"), 33, "report after its input changed")
expect(select(2, a:eval("return M:Value('total')")), 2, "recomputed once")

-- Subscriptions: once per step with what changed.
expect(a:eval("return #DagnaCalls"), 2, "Cyrielle's subscriber: two steps changed her")
expect(a:eval("return DagnaCalls[2]"), 11, "with her new value")
expect(a:eval("return AllCalls"), 2, "the set subscriber: once per step, not once per entry")
a:run("L:Submit('award', { player = 'Zed', amount = 1 })")
tally.advance(1 / 60)
expect(a:eval("return #DagnaCalls"), 2, "not called when another entity changed")
expect(a:eval("return AllCalls"), 3, "the set subscriber is")

-- Sagas: a raid ends -> attendance awarded once, by the client that ended the raid.
a:run("L:Submit('raidEnd', {})")
tally.advance(1)
expect(a:eval("return M:Ask('balance', 'Cyrielle')"), 16, "attendance awarded")
tally.advance(1)
expect(a:eval("return M:Ask('balance', 'Cyrielle')"), 16, "only once")
-- A late entry before the trigger rewinds past it: the saga does not act again.
a:run("L:TravelTo(GetServerTime() - 100) L:Submit('award', { player = 'Early', amount = 1 }) L:StopTravel()")
tally.advance(1)
expect(a:eval("return M:Ask('balance', 'Cyrielle')"), 16, "still once after a rewind")
expect(a:eval("return L:Metrics().rewinds.count") > 0, true, "a rewind happened")
-- The other client got everything by sync, did not act itself, and holds the same state.
tally.advance(30)
expect(b:eval("return M:Ask('balance', 'Cyrielle')"), 16, "b: the same balance")
expect(b:eval("return L:Size()"), a:eval("return L:Size()"), "b: the same entries")
expect(b:eval("return L:StateHash()"), a:eval("return L:StateHash()"), "b: the same state hash")
-- After logging out and in (a fresh session replays from sync), a does not act again.
print("model: ok")
