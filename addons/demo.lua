-- The demo scenario: an officer runs a raid night with GuildDKP, then logs out and back in.
-- Run: tally run addons --clients 1 --saved <dir> --script addons/demo.lua
local officer = tally.clients()[1]
local function say(text) officer:slash(text) end

say("/dkp award Dagna 25 boss kill")
say("/dkp award Eowald 25 boss kill")
say("/dkp award Fenwyn 10 on time")
tally.advance(60)
say("/dkp spend Dagna 15 Thunderfury")
say("/dkp award Eowald 500 oops")         -- a typo the officer undoes next
tally.advance(1)
local mistake = officer:log()[#officer:log()]:match("recorded (%S+)")
say("/dkp undo " .. mistake)
say("/dkp decay 10")
tally.advance(1)
say("/dkp standings")
say("/dkp history Dagna")
officer:logout()                         -- SavedVariables and the journal are written
officer:login()                          -- a new session replays the journal
tally.advance(1)
say("/dkp standings")
for _, c in ipairs(tally.clients()) do
  assert(#c:log(true) == 0, c:name() .. " logged errors: " .. table.concat(c:log(true), "\n"))
end
