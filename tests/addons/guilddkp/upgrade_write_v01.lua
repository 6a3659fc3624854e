-- First half of guilddkp_upgrade: GuildDKP 0.1 (the fixture in v0.1/) writes a journal.
local officer = tally.clients()[1]
officer:slash("/dkp award Dagna 25 boss kill")
officer:slash("/dkp award Eowald 14 on time")
officer:slash("/dkp award Fenwyn 30 boss kill")
officer:slash("/dkp spend Dagna 15 Thunderfury")
officer:slash("/dkp award Eowald 500 oops")
local log = officer:log()
officer:slash("/dkp undo " .. log[#log]:match("recorded (%S+)"))
officer:slash("/dkp decay 10")
tally.advance(1)
for _, c in ipairs(tally.clients()) do
  assert(#c:log(true) == 0, c:name() .. " logged errors: " .. table.concat(c:log(true), "\n"))
end
