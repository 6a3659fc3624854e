-- Second half of lua_revisions_upgrade: version 2 of the Revisions test addon replays the
-- journal version 1 wrote. Its awards (revision 1) reach the mutator through the upcaster, so
-- the state equals the state of the same awards written natively at revision 2; the stored
-- entries, their keys and the ledger's content fingerprint are unchanged.
local function expect(actual, expected, what)
  if actual ~= expected then
    error(string.format("%s: expected %s, got %s", what, tostring(expected), tostring(actual)), 2)
  end
end

local c = tally.clients()[1]
c:run("Revisions:CatchUp()")
expect(c:eval("return Revisions:Size()"), 3, "the journal's entries")
expect(c:eval("return Revisions:State().points.Dagna"), 15, "Dagna's points")
expect(c:eval("return Revisions:State().byReason.unspecified"), 22, "every version 1 award upcast")

-- The stored entries are as version 1 wrote them: same ids, revision 1, no reason field.
for i = 1, 3 do
  local kind, data, _, _, revision = c:eval("return Revisions:Entry(RevisionsDB.ids[" .. i .. "])")
  expect(kind, "award", "entry " .. i .. " found by its version 1 id")
  expect(revision, 1, "entry " .. i .. " keeps its revision")
  expect(data.reason, nil, "entry " .. i .. " is stored without the upcaster's field")
end
local adler, fingerprint = c:eval("return Revisions:StateHash()")
expect(fingerprint, c:eval("return RevisionsDB.fingerprint"), "content fingerprint unchanged by upcasting")
expect(adler, c:eval("return RevisionsDB.adler"), "state hash unchanged by upcasting")

-- The same awards written natively at revision 2 give the same state.
c:run([[
  Native = Tally.NewLedger{ name = "RevisionsNative", initialState = RevisionsAward.initialState }
  Native:RegisterMutator("award", RevisionsAward.mutator, RevisionsAward.options)
  NativeId = Native:Submit("award", { player = "Dagna", amount = 10, reason = "unspecified" })
  Native:Submit("award", { player = "Eowald", amount = 7, reason = "unspecified" })
  Native:Submit("award", { player = "Dagna", amount = 5, reason = "unspecified" })
  Native:CatchUp()
]])
expect(select(5, c:eval("return Native:Entry(NativeId)")), 2, "a submit takes the type's current revision")
local upcast, native = c:eval("return Revisions:State(), Native:State()")
local function same(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end
expect(same(upcast, native), true, "upcast state equals the state of native revision 2 entries")

-- New awards go on top at revision 2.
c:run("NewId = Revisions:Submit('award', { player = 'Eowald', amount = 3, reason = 'raid' }) Revisions:CatchUp()")
expect(select(5, c:eval("return Revisions:Entry(NewId)")), 2, "version 2 writes revision 2")
expect(c:eval("return Revisions:State().byReason.raid"), 3, "a native revision 2 award")
expect(#c:log(true), 0, "errors logged: " .. table.concat(c:log(true), "\n"))
print("revisions upgrade: ok")
