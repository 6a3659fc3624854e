-- GuildDKP: the /dkp slash command.
local addonName, ns = ...

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
  undo = function(id)
    report(ns.ledger:Ignore(id or ""))
  end,
}

SLASH_GUILDDKP1 = "/dkp"
SlashCmdList.GUILDDKP = function(message)
  local command, a, b, rest = strsplit(" ", message, 4)
  local handler = handlers[command or ""]
  if handler then handler(a, b, rest) end
end
