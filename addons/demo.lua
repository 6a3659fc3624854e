-- The demo scenario: an officer runs a raid night with GuildDKP, then logs out and back in.
-- Run: tally run addons --clients 1 --saved <dir> --script addons/demo.lua
local officer = tally.clients()[1]
local function say(text) officer:slash(text) end

say("/dkp roster import")                          -- the guild roster seeds the DKP roster
say("/dkp roster add Dagna ROGUE")
say("/dkp roster add Eowald WARRIOR")
say("/dkp roster add Fenwyn HUNTER")
say("/dkp alt Fenbank Fenwyn")                     -- an alt: its points live on Fenwyn
say("/dkp award Dagna,Eowald 25 boss_kill Ragnaros")
say("/dkp award Fenbank 10 on_time")
tally.advance(60)
say("/dkp auction open 19019 Thunderfury min=10 cap=60 sealed boss=Ragnaros")
say("/dkp bidfor Dagna 15")                        -- bids called out in raid chat
say("/dkp bidfor Eowald 15")                       -- a tie: Dagna bid first, same points
say("/dkp auction close 1")
say("/dkp award Eowald 500 manual oops")           -- a typo the officer undoes next
tally.advance(1)
say("/dkp undo last")
say("/dkp decay 10")
tally.advance(1)
say("/dkp standings")
say("/dkp history Dagna")
say("/dkp export standings csv")
officer:logout()                         -- SavedVariables and the journal are written
officer:login()                          -- a new session replays the journal
tally.advance(1)
say("/dkp standings")
for _, c in ipairs(tally.clients()) do
  assert(#c:log(true) == 0, c:name() .. " logged errors: " .. table.concat(c:log(true), "\n"))
end
