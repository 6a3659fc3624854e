-- Escapist: every way out of the sandbox the hostile suite tries. `/escape <probe>` runs one
-- probe; a probe returns what it reached (nil when the sandbox held), and the result lands in
-- EscapistReached[probe]. EscapistProbes lists the probes in order: each one is a suite case.
local probes = {
  { "io", function() return io end },
  { "os.execute", function() return os and os.execute end },
  { "debug", function() return debug end },
  { "package", function() return package end },
  { "require", function() return require end },
  { "ffi", function() return ffi end },
  { "jit", function() return jit end },
  { "module", function() return module end },
  { "dofile", function() return dofile end },
  { "loadfile", function() return loadfile end },
  { "load", function() return load end },
  { "getfenv/setfenv", function() return getfenv or setfenv end },
  { "newproxy", function() return newproxy end },
  { "string.dump", function() return string.dump or ("").dump end },
  { "string metatable", function() return getmetatable("").__index.dump end },
  -- Bytecode: a real function dumped by the host would need string.dump; hand-made headers of
  -- every LuaJIT and PUC bytecode signature must be refused before they reach the loader.
  { "bytecode", function()
      for _, header in ipairs({ "\27LJ\2\0", "\27LJ\1", "\27Lua\81\0", " \27LJ\2\0" }) do
        local f = loadstring(header .. string.rep("\0", 64))
        if f then return f end
      end
    end },
  { "collectgarbage stop", function()
      for _, option in ipairs({ "stop", "setpause", "setstepmul", "restart" }) do
        if pcall(collectgarbage, option, 1e9) then return option end
      end
    end },
  -- The instrumentation's budget table is a local named __tally_b: a chunk naming it is refused.
  { "budget table", function()
      local f = loadstring("return __tally_b")
      return f and f()
    end },
  -- The error handler, traceback and frames are closures over the host table; without the debug
  -- library nothing reaches their upvalues, and their metatables are plain.
  { "game API internals", function()
      local methods = getmetatable(CreateFrame("Frame")).__index
      return rawget(_G, "internal") or rawget(_G, "host") or rawget(methods, "host") or rawget(C_Timer, "timers")
    end },
  -- A ledger object must not hand out its binding (which could insert with any creator).
  { "ledger binding", function()
      local ledger = Tally.NewLedger{ name = "EscapistLedger" }
      local mt = getmetatable(ledger)
      if type(mt) == "table" then return mt end
      for k, v in pairs(ledger) do return v end
      return rawget(Tally, "ledgers") or rawget(Tally, "private")
    end },
  -- Another addon's ledger cannot be opened a second time (and written to) by name.
  { "another addon's ledger", function()
      local ok, ledger = pcall(Tally.NewLedger, { name = "Anchor", sync = true })
      if ok then
        ledger:Submit("mark", { n = 1e6 })
        return ledger
      end
    end },
  -- A synced ledger's prefixes are reserved: their frames go to the ledger's sync link, never
  -- to addons, even one that registers the prefixes itself.
  { "sync prefix", function()
      for _, prefix in ipairs({ "T:Anchor", "T:Anchor2", "T:Anchor3" }) do C_ChatInfo.RegisterAddonMessagePrefix(prefix) end
      local frame = CreateFrame("Frame")
      frame:RegisterEvent("CHAT_MSG_ADDON")
      frame:SetScript("OnEvent", function(_, _, prefix)
        if prefix:sub(1, 8) == "T:Anchor" then EscapistReached["sync prefix"] = "a frame of Anchor's ledger" end
      end)
    end },
  -- Metatable tricks: _G's metatable and the string metatable are addon-writable (as in the
  -- game) but give nothing back that the sandbox removed.
  { "_G metatable", function()
      setmetatable(_G, { __index = function(_, name) return "forged " .. tostring(name) end })
      local got = rawget(_G, "debug") or rawget(_G, "io")
      setmetatable(_G, nil)
      return got
    end },
  { "string metatable __index", function()
      local mt = getmetatable("")
      local old = mt.__index
      mt.__index = function(s, k) return old[k] end
      local got = ("x").dump
      mt.__index = old
      return got
    end },
  -- Coroutines run in the same sandbox; a coroutine's environment is the addon's.
  { "coroutine environment", function()
      local got
      coroutine.wrap(function() got = debug or io or jit end)()
      return got
    end },
  -- Reading undeclared globals gives nil; nothing is created behind the addon's back.
  { "undeclared globals", function()
      for _, name in ipairs({ "arg", "_ENV", "print_raw", "bit32", "utf8", "gcinfo_raw", "_LOADED" }) do
        if rawget(_G, name) ~= nil then return name end
      end
    end },
}

EscapistProbes, EscapistReached = {}, {}
local by_name = {}
for i, probe in ipairs(probes) do
  EscapistProbes[i] = probe[1]
  by_name[probe[1]] = probe[2]
end

SLASH_ESCAPIST1 = "/escape"
SlashCmdList.ESCAPIST = function(name)
  local probe = by_name[name]
  if not probe then error("Escapist: no probe named '" .. name .. "'") end
  local ok, got = pcall(probe)
  if ok and got ~= nil then EscapistReached[name] = tostring(got) end
end
