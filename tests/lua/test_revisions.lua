-- Lua test: schema revisions between clients running different versions of an addon. A client
-- that knows "award" only at revision 1 holds, forwards and hashes the revision 2 entries of a
-- newer client without applying them, reports them, and applies them once upgraded; chained
-- upcasters (1 -> 2 -> 3); bad upcasters and bad declarations.
-- Run: tally run tests/data/addons_host --clients 3 --script tests/lua/test_revisions.lua
local function expect(actual, expected, what)
  if actual ~= expected then
    error(string.format("%s: expected %s, got %s", what, tostring(expected), tostring(actual)), 2)
  end
end

local old, new, late = unpack(tally.clients())
local common = [[
  L = Tally.NewLedger{ name = "Rev", sync = true, frameBudgetMs = 0, batchSize = 100000,
                       initialState = function() return { points = {}, reasons = {} } end }
  Met, Failures = {}, {}
  L:On("unknownRevision", function(_, entries)
    for _, e in ipairs(entries) do Met[#Met + 1] = e.type .. "@" .. e.revision end
  end)
  L:On("mutatorFailed", function(_, err) Failures[#Failures + 1] = err end)
  function V1(state, data) state.points[data.player] = (state.points[data.player] or 0) + data.amount end
  function V2(state, data)
    V1(state, data)
    state.reasons[data.reason] = (state.reasons[data.reason] or 0) + data.amount
  end
  function V3(state, data) V2(state, { player = data.name, amount = data.amount, reason = data.reason }) end
  Up = {
    function(data) data.reason = "unspecified" return data end,                      -- 1 -> 2
    function(data) return { name = data.player, amount = data.amount, reason = data.reason } end,  -- 2 -> 3
  }
  AtRevision2 = { revision = 2, upcasters = { Up[1] } }
]]
old:run(common .. "L:RegisterMutator('award', V1)")
new:run(common .. "L:RegisterMutator('award', V2, AtRevision2)")

old:run("OldIds = { L:Submit('award', { player = 'Dagna', amount = 10 }), L:Submit('award', { player = 'Eowald', amount = 4 }) }")
new:run("NewIds = { L:Submit('award', { player = 'Dagna', amount = 3, reason = 'raid' }), L:Submit('award', { player = 'Fenwyn', amount = 8, reason = 'boss' }) }")
expect(select(5, old:eval("return L:Entry(OldIds[1])")), 1, "the old client writes revision 1")
expect(select(5, new:eval("return L:Entry(NewIds[1])")), 2, "the new client writes revision 2")
tally.advance(30)

-- Both hold all four entries and the same state hash; the old client skipped the newer ones.
expect(old:eval("return L:Size()"), 4, "old holds every entry")
expect(new:eval("return L:Size()"), 4, "new holds every entry")
local oldAdler, oldPrint = old:eval("return L:StateHash()")
local newAdler, newPrint = new:eval("return L:StateHash()")
expect(oldPrint, newPrint, "the same content")
expect(oldAdler, newAdler, "the same state hash: skipped newer entries count, as ignored ones do")
expect(old:eval("return L:State().points.Dagna"), 10, "old did not apply the revision 2 award to Dagna")
expect(old:eval("return L:State().points.Fenwyn"), nil, "nor Fenwyn's")
expect(old:eval("return #Met"), 2, "old reported both newer entries once")
expect(old:eval("return Met[1]"), "award@2", "with type and revision")
expect(old:eval("return #L:NewerEntries()"), 2, "NewerEntries lists them")
expect(old:eval("return L:NewerEntries()[1].id"), new:eval("return NewIds[1]"), "in ledger order")
expect(old:eval("return L:Metrics().newer_revisions"), 2, "Metrics counts them")
expect(old:eval("return (L:Lag())"), 0, "they are not waiting for replay")
-- The new client applied everything, the old entries through the upcaster.
expect(new:eval("return L:State().points.Dagna"), 13, "new applies both revisions")
expect(new:eval("return L:State().reasons.unspecified"), 14, "revision 1 awards upcast")
expect(new:eval("return #Met"), 0, "new met nothing newer")

-- A rewind replays the skipped entries again without reporting them twice.
old:run("L:TravelTo(GetServerTime() - 100) L:Submit('award', { player = 'Early', amount = 1 }) L:StopTravel()")
tally.advance(30)
expect(old:eval("return L:Metrics().rewinds.count") > 0, true, "old rewound")
expect(old:eval("return #Met"), 2, "no second report after the rewind")
expect(old:eval("return L:Metrics().newer_revisions"), 2, "still two newer entries")

-- The old client forwards what it cannot apply: a third client that only hears from it gets
-- the revision 2 entries and applies them.
new:set_online(false)
late:run(common .. "L:RegisterMutator('award', V2, AtRevision2)")
tally.advance(60)
expect(late:eval("return L:Size()"), 5, "the late client got every entry from the old one")
expect(late:eval("return L:State().points.Fenwyn"), 8, "and applied the forwarded revision 2 entry")
new:set_online(true)
tally.advance(30)

-- Upgrading the old client (registering revision 2 with its upcaster) replays and applies them.
local beforeAdler, beforePrint = old:eval("return L:StateHash()")
old:run("L:RegisterMutator('award', V2, AtRevision2)")
tally.advance(1)
expect(old:eval("return #L:NewerEntries()"), 0, "nothing newer after the upgrade")
expect(old:eval("return L:Metrics().newer_revisions"), 0, "Metrics agrees")
local function sameState(a, b, what)
  for _, key in ipairs({ "Dagna", "Eowald", "Fenwyn", "Early" }) do
    expect(a:eval("return L:State().points." .. key), b:eval("return L:State().points." .. key), what .. ": " .. key)
  end
  for _, reason in ipairs({ "unspecified", "raid", "boss" }) do
    expect(a:eval("return L:State().reasons." .. reason), b:eval("return L:State().reasons." .. reason), what .. ": " .. reason)
  end
end
sameState(old, new, "old after its upgrade equals new")
expect(select(5, old:eval("return L:Entry(OldIds[1])")), 1, "upcasting leaves the stored revision")
expect(old:eval("return select(2, L:Entry(OldIds[1])).reason"), nil, "and its fields")
local afterAdler, afterPrint = old:eval("return L:StateHash()")
expect(afterPrint, beforePrint, "upgrading leaves the content fingerprint")
expect(afterAdler, beforeAdler, "and the state hash")

-- Chained upcasters: at revision 3 ("player" renamed "name"), revision 1 entries go 1 -> 2 -> 3.
old:run("L:RegisterMutator('award', V3, { revision = 3, upcasters = Up }) L:CatchUp()")
sameState(old, new, "revision 3 through chained upcasters")
old:run("ThirdId = L:Submit('award', { name = 'Dagna', amount = 2, reason = 'raid' })")
expect(select(5, old:eval("return L:Entry(ThirdId)")), 3, "revision 3 submit")
tally.advance(30)
expect(new:eval("return #Met"), 1, "the revision 2 client reports the revision 3 entry")
expect(new:eval("return Met[1]"), "award@3", "as revision 3")
expect(new:eval("return L:State().points.Dagna"), 13, "and does not apply it")
expect(old:eval("return L:State().points.Dagna"), 15, "the revision 3 client does")
expect(new:eval("return L:StateHash()"), old:eval("return L:StateHash()"), "same state hash across revisions")

-- A failing upcaster stops replay like a failing mutator, and says which upcaster failed.
old:run([[L:RegisterMutator('award', V3, { revision = 3, upcasters = { Up[1], function(data) error("no name") end } })]])
tally.advance(1)
local failure = old:eval("return Failures[#Failures]") or ""
expect(failure:find("upcaster of 'award' from revision 2 failed", 1, true) ~= nil, true, "named upcaster failure: " .. failure)
old:run([[L:RegisterMutator('award', V3, { revision = 3, upcasters = { Up[1], function() end } })]])
tally.advance(1)
failure = old:eval("return Failures[#Failures]") or ""
expect(failure:find("returned a nil, not the fields of revision 3", 1, true) ~= nil, true, "an upcaster must return fields: " .. failure)

-- Declarations are checked when registered.
local function refused(code, text)
  local ok, err = pcall(old.eval, old, code)
  expect(ok, false, "refused: " .. code)
  expect(tostring(err):find(text, 1, true) ~= nil, true, "message for " .. code .. ": " .. tostring(err))
end
refused("L:RegisterMutator('award', V3, { revision = 3, upcasters = { Up[1] } })", "'award' at revision 3 needs upcasters[2]")
refused("L:RegisterMutator('award', V3, { revision = 0 })", "revision of 'award' must be a whole number 1..255")
refused("L:RegisterMutator('award', V1, { revision = 1, upcasters = { Up[1] } })", "upcasters[1] of 'award' is not a revision below 1")
print("revisions: ok")
