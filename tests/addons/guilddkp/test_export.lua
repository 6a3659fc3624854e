-- GuildDKP: standings and history exported as CSV and JSON parse back to the same data.
-- Run: tally run addons --clients 4 --script tests/addons/guilddkp/test_export.lua
local h = dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*)/") .. "/helpers.lua")
local clients = tally.clients()
local officer = clients[1]

h.run(officer, "/dkp roster import")
h.run(officer, "/dkp roster add Dagnabank PRIEST")
h.run(officer, "/dkp alt Dagnabank Dagna")
h.run(officer, "/dkp award Dagna,Brannoc 10 boss_kill Onyxia, first kill")
h.run(officer, '/dkp adjust Brannoc -3 correction said "oops", fixed it; café\\ok')
h.run(officer, "/dkp decay 10")

-- The text printed after the export's header line, as one string.
local function printed(lines)
  local out = {}
  for i = 2, #lines do out[#out + 1] = lines[i] end
  return table.concat(out, "\n")
end

-- Standings, CSV: header, one row per player, in standings order; alts joined by ';'.
local standings = officer:eval("return GuildDKP.Standings()")
local out = h.run(officer, "/dkp export standings csv")
h.expectLine(out, 'export standings.csv, 4 records, saved in GuildDKP_Export["standings.csv"]', "csv header line")
local text = officer:eval("return GuildDKP_Export['standings.csv']")
h.expect(printed(out), text, "the printed export is the saved one")
local rows = h.decodeCsv(text)
h.expect(table.concat(rows[1], "|"), "rank|name|class|points|alts", "csv columns")
h.expect(#rows, #standings + 1, "one row per player")
for i, s in ipairs(standings) do
  local r = rows[i + 1]
  h.expect(tonumber(r[1]), i, "csv rank")
  h.expect(r[2], s.name, "csv name")
  h.expect(r[3], s.class, "csv class")
  h.expect(tonumber(r[4]), s.points, "csv points")
  h.expect(r[5], s.alts, "csv alts")
end

-- Standings, JSON.
out = h.run(officer, "/dkp export standings json")
text = officer:eval("return GuildDKP_Export['standings.json']")
h.expect(printed(out), text, "the printed json is the saved one")
local list = h.decodeJson(text)
h.expect(list.n, #standings, "json records")
for i, s in ipairs(standings) do
  h.expect(list[i].rank, i, "json rank")
  h.expect(list[i].name, s.name, "json name")
  h.expect(list[i].points, s.points, "json points")
end
h.expect(list[1].alts[1], "Dagnabank", "json alts array")

-- History of every player, CSV and JSON, including notes with commas, quotes and UTF-8.
local function allHistory()
  local records = {}
  for _, name in ipairs({ "Aelric", "Brannoc", "Cyrielle", "Dagna" }) do
    local _, hist = officer:eval(string.format("return GuildDKP.History(%q)", name))
    for _, r in ipairs(hist) do records[#records + 1] = { player = name, row = r } end
  end
  return records
end
-- The export lists changes in ledger order (here, one officer's entries: the order of their
-- ids), and an entry's changes by name.
local expected = allHistory()
table.sort(expected, function(x, y)
  if x.row.id ~= y.row.id then return x.row.id < y.row.id end
  return x.player < y.player
end)
h.expect(#expected, 5, "history rows")

h.run(officer, "/dkp export history csv")
rows = h.decodeCsv(officer:eval("return GuildDKP_Export['history.csv']"))
h.expect(table.concat(rows[1], "|"), "player|entry|time|date|delta|balance|reason|note", "history columns")
h.expect(#rows, #expected + 1, "csv history rows")
for i, e in ipairs(expected) do
  local r = rows[i + 1]
  h.expect(r[1], e.player, "csv player")
  h.expect(r[2], e.row.id, "csv entry id")
  h.expect(tonumber(r[3]), e.row.t, "csv time")
  h.expect(tonumber(r[5]), e.row.d, "csv delta")
  h.expect(tonumber(r[6]), e.row.b, "csv balance")
  h.expect(r[7], e.row.r, "csv reason")
  h.expect(r[8], e.row.n or "", "csv note")
end
h.expect(rows[4][8], 'said "oops", fixed it; café\\ok', "a note with quotes, commas, UTF-8 and a backslash")

h.run(officer, "/dkp export history json")
list = h.decodeJson(officer:eval("return GuildDKP_Export['history.json']"))
h.expect(list.n, #expected, "json history rows")
for i, e in ipairs(expected) do
  h.expect(list[i].player, e.player, "json player")
  h.expect(list[i].entry, e.row.id, "json entry")
  h.expect(list[i].delta, e.row.d, "json delta")
  h.expect(list[i].balance, e.row.b, "json balance")
  h.expect(list[i].note == h.null and "" or list[i].note, e.row.n or "", "json note")
end

-- One player's history (an alt's name gives the main's).
out = h.run(officer, "/dkp export history Dagnabank json")
list = h.decodeJson(officer:eval("return GuildDKP_Export['history.json']"))
h.expect(list.n, 2, "Dagna's rows")
h.expect(list[1].player, "Dagna", "the alt's history is the main's")
h.expect(list[1].note, "Onyxia, first kill", "note with a comma")

-- An empty export is still valid.
h.run(officer, "/dkp export history Nobody json")
h.expect(h.decodeJson(officer:eval("return GuildDKP_Export['history.json']")).n, 0, "empty json array")
h.expectLine(h.run(officer, "/dkp export standings xml"), "export format must be csv or json", "unknown format")

-- A long export is built over several frames (500 lines a frame), never in one stalling call.
for i = 1, 200 do
  officer:slash("/dkp award raid 1 attendance")
  if i % 100 == 0 then tally.advance(1) end
end
local rowsNow = 0
for _, name in ipairs({ "Aelric", "Brannoc", "Cyrielle", "Dagna" }) do
  local _, hist = officer:eval(string.format("return GuildDKP.History(%q)", name))
  rowsNow = rowsNow + #hist
end
h.expect(rowsNow > 800, true, "enough rows for several frames")
officer:run("GuildDKP_Export['history.csv'] = nil")
local mark = #officer:log()
officer:slash("/dkp export history csv")
h.expect(officer:eval("return GuildDKP_Export['history.csv']"), nil, "not finished in one call")
h.expectLine(h.run(officer, "/dkp export standings csv"), "the history.csv export is still running", "one export at a time")
tally.advance(1)
text = officer:eval("return GuildDKP_Export['history.csv']")
h.expect(#h.decodeCsv(text), rowsNow + 1, "every row exported")
out = h.since(officer, mark)
h.expectLine(out, string.format("export history.csv, %d records", rowsNow), "the export's header line")
local header
for i, line in ipairs(out) do
  if line:find("export history.csv", 1, true) then header = i end
end
h.expect(table.concat(out, "\n", header + 1, header + rowsNow + 1), text, "every line printed, in order")

h.noErrors(clients)
print("guilddkp export: ok")
