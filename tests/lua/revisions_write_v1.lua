-- First half of lua_revisions_upgrade: version 1 of the Revisions test addon
-- (tests/data/addons_revisions/v1) writes awards at revision 1 and notes their ids, the
-- ledger's content fingerprint and state hash in its SavedVariables.
local c = tally.clients()[1]
c:run([[
  RevisionsDB.ids = {
    Revisions:Submit("award", { player = "Dagna", amount = 10 }),
    Revisions:Submit("award", { player = "Eowald", amount = 7 }),
    Revisions:Submit("award", { player = "Dagna", amount = 5 }),
  }
  Revisions:CatchUp()
  assert(Revisions:State().points.Dagna == 15, "version 1 applies its own awards")
  RevisionsDB.adler, RevisionsDB.fingerprint = Revisions:StateHash()
]])
tally.advance(1)
assert(#c:log(true) == 0, table.concat(c:log(true), "\n"))
print("revisions v1: wrote " .. c:eval("return #RevisionsDB.ids") .. " awards")
