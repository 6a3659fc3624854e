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

-- Atomic commands: the ledger authorizes each emitted entry against the state with the
-- command's earlier entries applied, and writes all of them or none.
a:run([[
  R = Tally.NewLedger{ name = "Roster", frameBudgetMs = 0, batchSize = 100000,
    initialState = function() return { members = {}, points = {} } end,
    authorize = function(entry, sender, stage, state)
      if stage ~= "submit" or entry.type ~= "award" then return true end
      if not state.members[entry.data.player] then return false, entry.data.player .. " is not a member" end
      return true
    end }
  RM = Tally.Model(R)
  RM:Mutator("join", function(state, data) state.members[data.player] = true end)
  RM:Mutator("award", function(state, data, meta)
    state.points[data.player] = (state.points[data.player] or 0) + data.amount
    state.lastAward = meta.id
  end)
  Joins = 0
  RM:Repository("members", { types = { "join" }, key = function(data) return data.player end,
                             get = function(state, player) return state.members[player] end })
    :Subscribe(function() Joins = Joins + 1 end)
  RM:Command("welcome", { args = { players = "table" }, handler = function(state, args, emit)
    for _, player in ipairs(args.players) do
      local id = emit("join", { player = player })
      emit("award", { player = player, amount = 5, joined = id })
    end
  end })
  RM:Command("mixed", { args = { join = "string", award = "string" }, handler = function(state, args, emit)
    emit("join", { player = args.join })
    emit("award", { player = args.award, amount = 1 })
  end })
  RM:Command("awardAll", { args = { players = "table" }, handler = function(state, args, emit)
    for _, player in ipairs(args.players) do emit("award", { player = player, amount = 1 }) end
  end })
]])
local ids = a:eval("return RM:Execute('welcome', { players = { 'Ann', 'Bob' } })")
expect(type(ids) == "table" and #ids, 4, "a later entry that depends on an earlier one of the same command is accepted")
expect(a:eval("return select(2, R:Entry('" .. ids[2] .. "')).joined"), ids[1], "emit returned the id the entry got")
tally.advance(1 / 60)
expect(a:eval("return R:State().points.Bob"), 5, "the command applied")
expect(a:eval("return R:State().lastAward"), ids[4], "a preview gave mutators the ids the entries got")
expect(a:eval("return Joins"), 1, "observers saw the applied entries once, not the preview")
local size = a:eval("return R:Size()")
local refused = { a:eval("return RM:Execute('awardAll', { players = { 'Ann', 'Bob', 'Nobody' } })") }
expect(refused[1], nil, "a command whose 3rd entry is refused is refused")
expect(refused[2], "Nobody is not a member", "with the ledger's reason")
expect(a:eval("return R:Size()"), size, "a refused command wrote nothing: no entries, no ignore entries")
refused = { a:eval("return RM:Execute('mixed', { join = 'Dee', award = 'Nobody' })") }
expect(refused[2], "Nobody is not a member", "an award of someone the command did not add is refused")
a:run("R:CatchUp()")
expect(a:eval("return R:State().members.Dee"), nil, "a refused command's earlier entries changed nothing")
expect(a:eval("return R:Size()"), size, "still nothing written")
expect(a:eval("return Joins"), 1, "the previews were not observed")
expect(#a:eval("return RM:Execute('mixed', { join = 'Dee', award = 'Dee' })"), 2, "the same command, coherent, is accepted")
print("model: ok")
