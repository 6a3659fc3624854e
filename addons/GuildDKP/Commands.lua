-- GuildDKP: the /dkp slash command.
local addonName, ns = ...

local help = {
  "/dkp award <player> <amount> [reason]  - give points",
  "/dkp spend <player> <amount> [item]    - take points for loot",
  "/dkp decay <percent>                   - decay every balance (rounds toward zero)",
  "/dkp standings                         - everyone's points, highest first",
  "/dkp history <player>                  - a player's entries with running balance",
  "/dkp undo <id>                         - ignore an entry (undo it again to redo)",
}

local function standings()
  local rows = {}
  for player, points in pairs(ns.ledger:State().points) do rows[#rows + 1] = { player, points } end
  -- Highest first; ties by name, so every client lists them the same way.
  table.sort(rows, function(a, b)
    if a[2] ~= b[2] then return a[2] > b[2] end
    return a[1] < b[1]
  end)
  return rows
end

local function report(id, reason)
  if id then print("GuildDKP: recorded " .. id) else print("GuildDKP: refused: " .. tostring(reason)) end
end

local handlers = {
  award = function(player, amount, reason)
    report(ns.ledger:Submit("award", { player = player, amount = tonumber(amount), reason = reason or "manual" }))
  end,
  spend = function(player, amount, item)
    report(ns.ledger:Submit("spend", { player = player, amount = tonumber(amount), item = item }))
  end,
  decay = function(percent)
    report(ns.ledger:Submit("decay", { percent = tonumber(percent) }))
  end,
  standings = function()
    local lag = ns.ledger:Lag()
    if lag > 0 then print("GuildDKP: " .. lag .. " entries still replaying") end
    for rank, row in ipairs(standings()) do print(string.format("%2d. %-12s %5d", rank, row[1], row[2])) end
  end,
  history = function(player)
    for _, h in ipairs(ns.ledger:State().history[player or ""] or {}) do
      print(string.format("%s %+5d %5d  %s", date("!%Y-%m-%d %H:%M", h.time), h.amount, h.balance, h.reason))
    end
  end,
  undo = function(id)
    report(ns.ledger:Ignore(id or ""))
  end,
}

SLASH_GUILDDKP1 = "/dkp"
SlashCmdList.GUILDDKP = function(message)
  local command, a, b, rest = strsplit(" ", message, 4)
  local handler = handlers[command or ""]
  if not ns.ledger then
    print("GuildDKP: not loaded yet")
  elseif handler and (command ~= "award" and command ~= "spend" or (a and b)) then
    handler(a, b, rest)
  else
    for _, line in ipairs(help) do print(line) end
  end
end
