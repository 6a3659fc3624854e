-- GuildDKP: the /dkp slash command: help, dispatch, and helpers the command files share.
-- Each *Commands.lua file adds its subcommands to ns.commands.
local _, ns = ...

local help = {
  "GuildDKP commands (names without realm; amounts are whole points):",
  "/dkp standings [CLASS]                      - points, highest first (ties by name)",
  "/dkp history <player>                       - entries with running balance (an alt shows its main)",
  "/dkp entry <id>                             - what an entry changed",
  "/dkp award <player[,player..]|raid|standby> <amount> <reason> [note]",
  "      reasons: " .. table.concat(ns.REASONS, " "),
  "/dkp adjust <player> <+/-amount> <reason> <note>  - manual correction (note required)",
  "/dkp decay <percent> [skipneg]              - every balance loses percent (rounded, halves taken)",
  "/dkp undo <id|last>   /dkp redo [id]        - ignore an entry / restore it",
  "/dkp roster [add <name> <CLASS> | remove <name> | import | check]",
  "/dkp alt <alt> <main>   /dkp unalt <alt>    - points of an alt live on its main",
  "/dkp bench [add <names> | remove <names> | clear] - the standby list for /dkp award standby",
  "/dkp auction open <item> [min=N] [cap=N] [open|sealed|vickrey] [zerosum] [boss=Name]",
  "/dkp auction list | show <n> | close <n> | cancel <n>",
  "/dkp bid <amount> [auction]   /dkp bidfor <player> <amount> [auction]  (0 withdraws)",
  "/dkp export standings|history [player] csv|json",
  "/dkp config [officerrank <n>]               - guild master: ranks 0..n are officers",
  "/dkp sync                                   - whether this client holds what the guild's other clients hold",
}

-- ns.commands.<name>(words, line): words after the subcommand; line is the rest of the text,
-- for commands that end in free text (notes, item names).
ns.commands = {}

function ns.say(text) print("GuildDKP: " .. text) end

local function words(text)
  local list = {}
  for w in gmatch(text or "", "%S+") do list[#list + 1] = w end
  return list
end

-- "Dagna,eowald" -> { "Dagna", "Eowald" }
function ns.nameList(text)
  local names = {}
  for item in gmatch(text or "", "[^,%s]+") do names[#names + 1] = ns.normalizeName(item) end
  return names
end

function ns.replayNote(lag)
  if lag > 0 then ns.say(lag .. " entries still replaying; figures may change") end
end

-- /dkp sync: the ledger's sync state and, per peer heard from, how many entries it holds.
ns.commands.sync = function()
  local status = ns.ledger:SyncStatus()
  if not status then return ns.say("this ledger does not sync") end
  local names = {}
  for name in pairs(status.peers) do names[#names + 1] = name end
  table.sort(names)
  ns.say(string.format("sync %s: %d entries here, %d peer(s)", tostring(status.state), ns.ledger:Size(), #names))
  for _, name in ipairs(names) do
    local peer = status.peers[name]
    local lag = peer.lag == 0 and "same count" or (peer.lag > 0 and (peer.lag .. " more") or (-peer.lag .. " fewer"))
    print(string.format("  %-24s %6d entries (%s)", name, peer.count, lag))
  end
end

SLASH_GUILDDKP1 = "/dkp"
SlashCmdList.GUILDDKP = function(message)
  local command, rest = strmatch(message or "", "^(%S*)%s*(.-)$")
  local handler = ns.commands[strlower(command or "")]
  if not ns.ledger then
    ns.say("not loaded yet")
  elseif handler then
    handler(words(rest), rest)
  else
    for _, line in ipairs(help) do print(line) end
  end
end
