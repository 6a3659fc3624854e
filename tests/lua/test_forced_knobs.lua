-- Lua test: knobs forced from the command line (--knobs preset=reference) win over the addon's,
-- and a scenario changes one ledger's knobs at run time.
-- Run: tally run tests/data/addons_host --clients 1 --knobs preset=reference --script tests/lua/test_forced_knobs.lua
local function expect(actual, expected, what)
  if actual ~= expected then
    error(string.format("%s: expected %s, got %s", what, tostring(expected), tostring(actual)), 2)
  end
end

local a = tally.clients()[1]
a:run([[
  L = Tally.NewLedger{ name = "Knobs", batchSize = 7, frameBudgetMs = 5 }
  applied = 0
  L:RegisterMutator("e", function() applied = applied + 1 end)
  for i = 1, 200 do L:Submit("e", { i = i }) end
]])
expect(a:eval("return L:SetKnobs{ batchSize = 9 }.batchSize"), 50, "the operator's batch size stands")
expect(a:eval("return L:SetKnobs{}.interval"), 0.5, "the operator's interval stands")
expect(pcall(a.eval, a, "L:SetKnobs{ batchSize = 0 }"), false, "a bad request is still an error")
-- The reference preset: 50 entries per half second.
tally.advance(1 / 60)
expect(a:eval("return applied"), 50, "one batch in the first frame")
tally.advance(0.55)
expect(a:eval("return applied"), 100, "the next half second")
-- The scenario changes the knobs at run time: every frame, 1000 per batch.
a:set_knobs("Knobs", "interval=0,batch=1000")
tally.advance(2 / 60)
expect(a:eval("return applied"), 200, "caught up with the new knobs")
expect(pcall(a.set_knobs, a, "Knobs", "batch=0"), false, "bad knobs raise")
expect(pcall(a.set_knobs, a, "Missing", "batch=5"), false, "unknown ledger raises")
