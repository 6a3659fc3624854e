-- GuildDKP: undo (ignore an entry), redo (ignore the ignore), manual adjustments with reasons.
-- Run: tally run addons --clients 3 --script tests/addons/guilddkp/test_corrections.lua
local h = dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*)/") .. "/helpers.lua")
local clients = tally.clients()
local officer = clients[1]

h.run(officer, "/dkp roster add Dagna ROGUE")
h.run(officer, "/dkp roster add Eowald DRUID")
h.run(officer, "/dkp award Dagna 25 boss_kill")
local typo = h.idIn(h.run(officer, "/dkp award Eowald 500 manual oops"))
h.expect(h.balance(officer, "Eowald"), 500, "the typo counts")

-- Undo: the entry stays in the ledger but no longer counts; "/dkp entry" says so.
local out = h.run(officer, "/dkp undo " .. typo)
h.expectLine(out, "undid " .. typo, "undo")
local undoId = out[1]:match("with (%S+)")
h.expect(h.balance(officer, "Eowald"), 0, "undone")
h.expectLine(h.run(officer, "/dkp entry " .. typo), "ignored: it is undone", "entry shows it is undone")
h.expectLine(h.run(officer, "/dkp entry " .. undoId), "undoes " .. typo, "the undo entry names its target")

-- Redo by the target's id (this client remembers its undos), then undo again with "last".
h.expectLine(h.run(officer, "/dkp redo " .. typo), "redid", "redo")
h.expect(h.balance(officer, "Eowald"), 500, "redone")
h.expectLine(h.run(officer, "/dkp entry " .. typo), "Eowald         +500", "the entry counts again")
local undo2 = h.run(officer, "/dkp undo " .. typo)[1]:match("with (%S+)")
h.expect(h.balance(officer, "Eowald"), 0, "undone again")
-- Redo by the undo entry's id (works on any client that holds the undo).
h.expectLine(h.run(officer, "/dkp redo " .. undo2), "redid", "redo by the undo's id")
h.expect(h.balance(officer, "Eowald"), 500, "redone by the undo's id")
h.run(officer, "/dkp undo " .. typo)
h.expectLine(h.run(officer, "/dkp redo"), "redid", "redo without an id: the last undo")
h.expect(h.balance(officer, "Eowald"), 500, "redone again")
h.run(officer, "/dkp undo " .. typo)
h.expect(h.balance(officer, "Eowald"), 0, "undone for good")

-- "last" is this client's latest entry.
h.run(officer, "/dkp award Dagna 3 on_time")
h.expect(h.balance(officer, "Dagna"), 28, "before undo last")
h.run(officer, "/dkp undo last")
h.expect(h.balance(officer, "Dagna"), 25, "undo last")

-- Undo of something that does not exist.
h.expectLine(h.run(officer, "/dkp undo 00000000-00-0000-00000000"), "no entry 00000000-00-0000-00000000", "unknown id")
h.expectLine(h.run(officer, "/dkp redo 00000000-00-0000-00000000"), "no undo of", "unknown redo")

-- Undo in the middle: later entries are replayed on the corrected state (decay of 10% after
-- an undone award of 100 takes 10% of the smaller balance).
local big = h.idIn(h.run(officer, "/dkp award Dagna 100 bonus"))
h.run(officer, "/dkp decay 10")
h.expect(h.balance(officer, "Dagna"), 112, "125 decayed by 10% (12.5 -> 13 taken)")
h.run(officer, "/dkp undo " .. big)
h.expect(h.balance(officer, "Dagna"), 22, "25 decayed by 10% (2.5 -> 3 taken)")

-- Manual adjustment: signed, with a reason code and a required note.
out = h.run(officer, "/dkp adjust Dagna -7 penalty late for the pull")
h.expectLine(out, "adjusted Dagna by -7", "adjust down")
h.expect(h.balance(officer, "Dagna"), 15, "after the penalty")
local main, rows = officer:eval("return GuildDKP.History('Dagna')")
h.expect(rows[#rows].r, "penalty", "adjust reason")
h.expect(rows[#rows].n, "late for the pull", "adjust note")
h.expectLine(h.run(officer, "/dkp adjust Dagna 0 correction nothing"), "non-zero whole number", "zero adjust")
h.expectLine(h.run(officer, "/dkp adjust Dagna +5 correction"), "a note saying why is required", "note required")
h.expectLine(h.run(officer, "/dkp adjust Dagna +5 because typo"), "unknown reason 'because'", "unknown reason")
h.run(officer, "/dkp adjust Dagna +5 correction decay was wrong")
h.expect(h.balance(officer, "Dagna"), 20, "correction")

-- Undoing a roster change: the alt link undone gives the alt its points back.
h.run(officer, "/dkp roster add Dagnabank PRIEST")
h.run(officer, "/dkp award Dagnabank 6 manual")
local link = h.idIn(h.run(officer, "/dkp alt Dagnabank Dagna"))
h.expect(h.balance(officer, "Dagna"), 26, "linked")
h.run(officer, "/dkp undo " .. link)
h.expect(h.balance(officer, "Dagna"), 20, "link undone: main as before")
h.expect(h.balance(officer, "Dagnabank"), 6, "link undone: the alt has its points")

h.noErrors(clients)
print("guilddkp corrections: ok")
