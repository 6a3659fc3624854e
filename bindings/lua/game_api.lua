-- The game API addons see (frames, events, timers, slash commands, string aliases), written in
-- Lua over a few host functions. Runs once per client before any addon; the table it returns
-- is kept in the registry, out of addons' reach. Its state lives in upvalues, not globals.
-- `ffi` serves profiling only and never reaches addon code.
local host, ffi = ...

local type, tostring, select, error, pcall, xpcall, next, ipairs, setmetatable, rawget, unpack =
  type, tostring, select, error, pcall, xpcall, next, ipairs, setmetatable, rawget, unpack
local _G = _G
local tinsert, tremove, tsort, tconcat = table.insert, table.remove, table.sort, table.concat
local strfind, strsub, strlower, strmatch, strgsub, strformat, strlen =
  string.find, string.sub, string.lower, string.match, string.gsub, string.format, string.len
local traceback = host.traceback

local internal = { replay = function() end }  -- ledger_api.lua replaces replay

------------------------------------------------------------------------------------------------
-- Errors

-- An error object as text without running addon code: its __tostring could error or spin,
-- inside the message handler or the default handler, on every error. Tables, functions,
-- threads and userdata show as tostring shows them without a metamethod.
local function error_text(value)
  local t = type(value)
  if t == "string" then return value end
  if t == "number" or t == "boolean" or t == "nil" then return tostring(value) end
  return t .. ": " .. strformat("%p", value)
end

local function default_error_handler(message)
  host.log_error(error_text(message))
end
local error_handler = default_error_handler

function seterrorhandler(handler)
  if type(handler) ~= "function" then error("Usage: seterrorhandler(errFunc)", 2) end
  error_handler = handler
end

function geterrorhandler()
  return error_handler
end

-- A "script ran too long" kill must reach the host even through an addon's own handler.
local function is_kill(message)
  return type(message) == "string" and strfind(message, "script ran too long", 1, true) ~= nil
end

-- Hands an error to the addon-set handler; an error inside that handler is logged, not raised.
-- A handler that runs too long is dropped for the default one (the kill travels on).
local function report(message)
  local handler = error_handler
  local ok, err = pcall(handler, message)
  if ok then return end
  if is_kill(err) then
    if error_handler == handler then error_handler = default_error_handler end
    default_error_handler(message)
    error(err .. " (in the error handler, which is replaced by the default one)", 0)
  end
  host.log_error("error in error handler: " .. error_text(err) .. "; original error: " .. error_text(message))
end

local function with_trace(message)
  if is_kill(message) then return message end
  return traceback(error_text(message), 2)
end

-- Handlers that ran too long once are not called again, so one runaway script cannot eat every
-- frame's time; the kill itself travels on to the host, which logs it.
local disabled = setmetatable({}, { __mode = "k" })
internal.disabled = disabled  -- ledger_api.lua disables authorize functions the same way

------------------------------------------------------------------------------------------------
-- Profiling: the time of each call into addon code counts for the addon whose file defined the
-- function called (bindings/profiler.hpp). Without host.profiler, profiling is off.

-- enter(profiler, owner, work, label, #label) -> depth; leave(profiler, depth). The calls are
-- written out where they are made, not wrapped in helper functions: a helper called from
-- several places becomes hot on its own, and a trace that starts in it cannot follow the
-- return into call_as's `...` (NYI), which leaves the handler loops to the interpreter
-- (docs/profiling.md).
local enter, leave, profiler
if host.profiler then
  ffi.cdef [[
  typedef int (*tally_profile_enter_fn)(void*, int, int, const char*, size_t);
  typedef void (*tally_profile_leave_fn)(void*, int);
  ]]
  -- Cast once: a light userdata argument would keep the calls out of compiled traces.
  profiler = ffi.cast("void*", host.profiler)
  enter = ffi.cast("tally_profile_enter_fn", host.profile_enter)
  leave = ffi.cast("tally_profile_leave_fn", host.profile_leave)
end
local function_owner = host.function_owner
local WORK = host.profile_work
local owners = setmetatable({}, { __mode = "k" })  -- function -> owner id, looked up once

-- The owner of a function not yet in `owners` (callers write `owners[fn] or owner_of(fn)`).
local function owner_of(fn)
  local owner = function_owner(fn)
  owners[fn] = owner
  return owner
end

-- Calls fn(...) protected, its time counted for fn's addon as `work` (`label`, such as the
-- event, names it in traces); errors go to the error handler. True when fn succeeded.
local function call_as(work, label, fn, ...)
  if disabled[fn] then return false end
  local depth
  if enter then
    depth = enter(profiler, owners[fn] or owner_of(fn), work, label, label and #label or 0)
  end
  local ok, err = xpcall(fn, with_trace, ...)
  if depth then leave(profiler, depth) end
  if not ok then
    if is_kill(err) then
      disabled[fn] = true
      error(err .. " (this handler is disabled)", 0)
    end
    report(err)
  end
  return ok
end

local WORK_CALLBACK = WORK.Callback
local function safecall(fn, ...)
  return call_as(WORK_CALLBACK, nil, fn, ...)
end
internal.safecall = safecall
internal.report = report

-- Runs fn(...) unprotected (errors travel on) with its time counted for the addon `owner`
-- (an id from internal.caller_owner) as replay work: a ledger's replay for its addon.
local WORK_REPLAY = WORK.Replay
function internal.replay_as(owner, label, fn, ...)
  if not enter then return fn(...) end
  local depth = enter(profiler, owner, WORK_REPLAY, label, #label)
  fn(...)
  leave(profiler, depth)
end
-- The addon of the innermost addon function on the stack (Tally.NewLedger's caller).
internal.caller_owner = host.caller_owner

function debugstack(start, count1, count2)
  return traceback("", (type(start) == "number" and start or 1) + 1)
end

------------------------------------------------------------------------------------------------
-- Frames and events

local Frame = {}
local frame_meta = { __index = Frame }
local frame_state = setmetatable({}, { __mode = "k" })
local frames_by_event = {}      -- event -> list of frames, in registration order
local all_event_frames = {}     -- frames that called RegisterAllEvents, in order
local frames_in_order = {}      -- every frame, in creation order (OnUpdate runs in this order)
local known_scripts = { OnEvent = true, OnUpdate = true, OnShow = true, OnHide = true }

local function state_of(frame, method)
  local s = type(frame) == "table" and frame_state[frame]
  if not s then error("Usage: frame:" .. method .. "(...): not a frame", 3) end
  return s
end

local function remove_value(list, value)
  for i = #list, 1, -1 do
    if list[i] == value then tremove(list, i) end
  end
end

function CreateFrame(frame_type, name, parent)
  if frame_type ~= "Frame" then
    error("CreateFrame: frame type '" .. tostring(frame_type) .. "' is not supported by Tally (only \"Frame\")", 2)
  end
  if name ~= nil and type(name) ~= "string" then error("Usage: CreateFrame(\"Frame\" [, name [, parent]])", 2) end
  local frame = setmetatable({}, frame_meta)
  frame_state[frame] = { name = name, parent = parent, shown = true, events = {}, scripts = {}, hooks = {} }
  frames_in_order[#frames_in_order + 1] = frame
  if name then _G[name] = frame end
  return frame
end

function Frame:RegisterEvent(event)
  local s = state_of(self, "RegisterEvent")
  if type(event) ~= "string" then error("Usage: frame:RegisterEvent(\"event\")", 2) end
  if not s.events[event] then
    s.events[event] = true
    local list = frames_by_event[event]
    if not list then
      list = {}
      frames_by_event[event] = list
    end
    list[#list + 1] = self
  end
  return true
end

function Frame:UnregisterEvent(event)
  local s = state_of(self, "UnregisterEvent")
  if s.events[event] then
    s.events[event] = nil
    remove_value(frames_by_event[event], self)
  end
end

function Frame:RegisterAllEvents()
  local s = state_of(self, "RegisterAllEvents")
  if not s.all_events then
    s.all_events = true
    all_event_frames[#all_event_frames + 1] = self
  end
end

function Frame:UnregisterAllEvents()
  local s = state_of(self, "UnregisterAllEvents")
  for event in next, s.events do remove_value(frames_by_event[event], self) end
  s.events = {}
  if s.all_events then
    s.all_events = nil
    remove_value(all_event_frames, self)
  end
end

function Frame:IsEventRegistered(event)
  local s = state_of(self, "IsEventRegistered")
  return (s.events[event] or s.all_events) and true or false
end

local function check_script(script, method)
  if not known_scripts[script] then
    error("frame:" .. method .. ": script '" .. tostring(script) .. "' is not supported by Tally", 3)
  end
end

function Frame:SetScript(script, handler)
  local s = state_of(self, "SetScript")
  check_script(script, "SetScript")
  if handler ~= nil and type(handler) ~= "function" then error("Usage: frame:SetScript(\"type\", function)", 2) end
  s.scripts[script] = handler
  s.hooks[script] = nil
end

function Frame:GetScript(script)
  local s = state_of(self, "GetScript")
  check_script(script, "GetScript")
  return s.scripts[script]
end

function Frame:HookScript(script, handler)
  local s = state_of(self, "HookScript")
  check_script(script, "HookScript")
  if type(handler) ~= "function" then error("Usage: frame:HookScript(\"type\", function)", 2) end
  if not s.scripts[script] then
    s.scripts[script] = handler
    return
  end
  local hooks = s.hooks[script] or {}
  hooks[#hooks + 1] = handler
  s.hooks[script] = hooks
end

-- Runs a frame's script and then its hooks, each protected and counted as `work`.
local function run_script(frame, s, script, work, label, ...)
  local handler = s.scripts[script]
  if not handler then return end
  call_as(work, label, handler, frame, ...)
  local hooks = s.hooks[script]
  if hooks then
    for i = 1, #hooks do call_as(work, label, hooks[i], frame, ...) end
  end
end

local WORK_SCRIPT, WORK_EVENT, WORK_MESSAGE, WORK_UPDATE = WORK.Script, WORK.OnEvent, WORK.AddonMessage, WORK.OnUpdate

function Frame:Show()
  local s = state_of(self, "Show")
  if not s.shown then
    s.shown = true
    run_script(self, s, "OnShow", WORK_SCRIPT, "OnShow")
  end
end

function Frame:Hide()
  local s = state_of(self, "Hide")
  if s.shown then
    s.shown = false
    run_script(self, s, "OnHide", WORK_SCRIPT, "OnHide")
  end
end

function Frame:IsShown() return state_of(self, "IsShown").shown end
function Frame:IsVisible() return state_of(self, "IsVisible").shown end
function Frame:GetName() return state_of(self, "GetName").name end
function Frame:GetParent() return state_of(self, "GetParent").parent end
function Frame:GetObjectType() state_of(self, "GetObjectType") return "Frame" end

-- Delivers an event to every registered frame, in registration order.
function internal.dispatch_event(event, ...)
  local work = event == "CHAT_MSG_ADDON" and WORK_MESSAGE or WORK_EVENT
  local list = frames_by_event[event]
  if list then
    local snapshot = { unpack(list) }
    for i = 1, #snapshot do
      local frame = snapshot[i]
      local s = frame_state[frame]
      if s.events[event] then run_script(frame, s, "OnEvent", work, event, event, ...) end
    end
  end
  if #all_event_frames > 0 then
    local snapshot = { unpack(all_event_frames) }
    for i = 1, #snapshot do
      local frame = snapshot[i]
      local s = frame_state[frame]
      if s.all_events and not s.events[event] then run_script(frame, s, "OnEvent", work, event, event, ...) end
    end
  end
end

------------------------------------------------------------------------------------------------
-- Time and timers

local frame_time = 0

function GetTime() return frame_time end
GetTimePreciseSec = host.precise_time
GetServerTime = host.server_time

function time(t)
  if t == nil then return host.server_time() end
  return host.make_time(t)
end
date = host.date

local timers = {}      -- pending timers, unordered; run in (due, sequence) order
local timer_sequence = 0

local Timer = {}
local timer_meta = { __index = Timer }
function Timer:Cancel() self._cancelled = true end
function Timer:IsCancelled() return self._cancelled == true end

local function schedule(seconds, callback, iterations, with_handle, usage)
  if type(seconds) ~= "number" or seconds ~= seconds then error("Usage: " .. usage, 3) end
  if type(callback) ~= "function" then error("Usage: " .. usage, 3) end
  if iterations ~= nil and (type(iterations) ~= "number" or iterations < 1) then error("Usage: " .. usage, 3) end
  timer_sequence = timer_sequence + 1
  local timer = setmetatable({
    _interval = seconds > 0 and seconds or 0, _due = frame_time + (seconds > 0 and seconds or 0),
    _sequence = timer_sequence, _callback = callback, _remaining = iterations, _handle = with_handle,
  }, timer_meta)
  timers[#timers + 1] = timer
  return timer
end

C_Timer = {}
function C_Timer.After(seconds, callback)
  schedule(seconds, callback, 1, false, "C_Timer.After(seconds, callback)")
end
function C_Timer.NewTimer(seconds, callback)
  return schedule(seconds, callback, 1, true, "C_Timer.NewTimer(seconds, callback)")
end
function C_Timer.NewTicker(seconds, callback, iterations)
  return schedule(seconds, callback, iterations, true, "C_Timer.NewTicker(seconds, callback [, iterations])")
end

local function due_order(a, b)
  if a._due ~= b._due then return a._due < b._due end
  return a._sequence < b._sequence
end

-- Runs every timer due by now, each at most once per frame; an erroring ticker stops.
local WORK_TIMER = WORK.Timer
local function run_timers()
  local due, keep = {}, {}
  for i = 1, #timers do
    local t = timers[i]
    if not t._cancelled then
      if t._due <= frame_time then due[#due + 1] = t else keep[#keep + 1] = t end
    end
  end
  timers = keep
  tsort(due, due_order)
  for i = 1, #due do
    local t = due[i]
    if not t._cancelled then
      local ok
      if t._handle then ok = call_as(WORK_TIMER, nil, t._callback, t) else ok = call_as(WORK_TIMER, nil, t._callback) end
      if t._remaining then t._remaining = t._remaining - 1 end
      if not ok then
        t._cancelled = true
      elseif not t._cancelled and (t._remaining == nil or t._remaining > 0) then
        t._due = frame_time + t._interval
        timers[#timers + 1] = t
      elseif t._remaining == 0 then
        t._cancelled = true
      end
    end
  end
end

-- One frame is three calls from the host, each its own call into addon code, so that a kill
-- (which stops the rest of its call) in one does not skip the others: tick (the clock and due
-- timers), internal.replay (ledger_api.lua), then update (OnUpdate of shown frames in
-- creation order).
function internal.tick(now)
  frame_time = now
  run_timers()
end

function internal.update(elapsed)
  local snapshot = { unpack(frames_in_order) }
  for i = 1, #snapshot do
    local frame = snapshot[i]
    local s = frame_state[frame]
    if s.shown and s.scripts.OnUpdate then run_script(frame, s, "OnUpdate", WORK_UPDATE, nil, elapsed) end
  end
end

------------------------------------------------------------------------------------------------
-- The player, the realm, the build

-- Class files, their display names and class ids as the game numbers them.
local CLASSES = {
  WARRIOR = { "Warrior", 1 }, PALADIN = { "Paladin", 2 }, HUNTER = { "Hunter", 3 },
  ROGUE = { "Rogue", 4 }, PRIEST = { "Priest", 5 }, SHAMAN = { "Shaman", 7 },
  MAGE = { "Mage", 8 }, WARLOCK = { "Warlock", 9 }, DRUID = { "Druid", 11 },
}
local function class_name(file) local c = CLASSES[file] return c and c[1] or file end

-- Names as the game shows them: without the realm when it is the player's.
local realm_suffix = "-" .. host.realm_name
function Ambiguate(name, context)
  if type(name) ~= "string" then error("Usage: Ambiguate(fullName, context)", 2) end
  if strsub(name, -#realm_suffix) == realm_suffix then return strsub(name, 1, -#realm_suffix - 1) end
  return name
end

-- The host builds roster tables on every call and addons scan them index by index: keep them
-- until anything a roster shows changes. Callers must not modify the records.
local rosters, rosters_version = {}, nil
local host_roster = host.roster
local function roster(kind)
  local version = host.roster_version()
  if version ~= rosters_version then
    rosters, rosters_version = {}, version
  end
  local r = rosters[kind]
  if not r then
    r = host_roster(kind)
    rosters[kind] = r
  end
  return r
end

-- A unit token ("player", "raidN", "partyN") or a group member's name -> its roster record.
local function unit_record(unit)
  if type(unit) ~= "string" then return nil end
  unit = strlower(unit)
  if unit == "player" then return roster("player")[1] end
  local group = roster("group")
  local raid_index = tonumber(strmatch(unit, "^raid(%d+)$"))
  if raid_index then
    local r = group[raid_index]
    return r and r.raid and r or nil
  end
  local party_index = tonumber(strmatch(unit, "^party(%d+)$"))
  if party_index then
    -- party1..4: the other members of the player's subgroup, in roster order.
    local me = roster("player")[1]
    local n = 0
    for i = 1, #group do
      local r = group[i]
      if r.short ~= me.short and r.subgroup == me.subgroup then
        n = n + 1
        if n == party_index then return r end
      end
    end
    return nil
  end
  for i = 1, #group do
    local r = group[i]
    if strlower(r.short) == unit or strlower(r.name) == unit then return r end
  end
  return nil
end

function UnitName(unit)
  local r = unit_record(unit)
  if r then return r.short end
  return nil
end
function UnitGUID(unit)
  local r = unit_record(unit)
  return r and r.guid or nil
end
function UnitExists(unit) return unit_record(unit) ~= nil end
function UnitClass(unit)
  local r = unit_record(unit)
  if not r then return nil end
  local c = CLASSES[r.class_file]
  return class_name(r.class_file), r.class_file, c and c[2] or 0
end
function UnitLevel(unit)
  local r = unit_record(unit)
  return r and r.level or 0
end
function UnitIsGroupLeader(unit)
  local r = unit_record(unit)
  return r ~= nil and r.leader
end
function UnitInRaid(unit)
  local r = unit_record(unit)
  if not r or not r.raid then return nil end
  local group = roster("group")
  for i = 1, #group do
    if group[i].guid == r.guid then return i - 1 end
  end
end
function GetRealmName() return host.realm_name end

------------------------------------------------------------------------------------------------
-- Guild and group

function IsInGuild() return roster("player")[1].guild ~= nil end
-- GetGuildInfo("player") -> guildName, rankName, rankIndex (0 = guild master)
function GetGuildInfo(unit)
  local r = unit_record(unit)
  if not r or not r.guild then return nil end
  return r.guild, r.rank_name, r.rank_index, nil
end
function GetNumGuildMembers()
  local members, online = roster("guild"), 0
  for i = 1, #members do
    if members[i].online then online = online + 1 end
  end
  return #members, online, online
end
-- GetGuildRosterInfo(index) -> name, rankName, rankIndex, level, class, zone, note,
-- officerNote, online, status, classFile, achievementPoints, achievementRank, isMobile,
-- canSoR, repStanding, guid. The roster is sorted by name.
function GetGuildRosterInfo(index)
  local r = roster("guild")[index]
  if not r then return nil end
  return r.name, r.rank_name, r.rank_index, r.level, class_name(r.class_file), "", "", "",
    r.online, 0, r.class_file, 0, 0, false, false, 0, r.guid
end
function GuildControlGetNumRanks() return #host.guild_ranks end
function GuildControlGetRankName(index) return host.guild_ranks[index] end
-- Asks the server for the roster: GUILD_ROSTER_UPDATE follows on a later frame.
function GuildRoster()
  C_Timer.After(0, function() internal.dispatch_event("GUILD_ROSTER_UPDATE", false) end)
end
C_GuildInfo = { GuildRoster = GuildRoster }

function IsInRaid()
  local group = roster("group")
  return #group > 0 and group[1].raid
end
function IsInGroup() return #roster("group") > 0 end
function GetNumGroupMembers() return #roster("group") end
-- GetRaidRosterInfo(index) -> name, rank (2 leader, 0 member), subgroup, level, class,
-- classFile, zone, online, isDead, role, isML, combatRole
function GetRaidRosterInfo(index)
  local group = roster("group")
  local r = group[index]
  if not r or not r.raid then return nil end
  return Ambiguate(r.name, "none"), r.leader and 2 or 0, r.subgroup, r.level, class_name(r.class_file),
    r.class_file, "", r.online, false, nil, false, "NONE"
end
function GetBuildInfo() return host.build_version, host.build_number, host.build_date, host.interface_version end
function IsLoggedIn() return host.is_logged_in() end

function print(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
  host.log(tconcat(parts, " "))
end

------------------------------------------------------------------------------------------------
-- Addon messages (delivered as CHAT_MSG_ADDON(prefix, text, channel, sender, target))

Enum = {
  SendAddonMessageResult = {
    Success = 0, InvalidPrefix = 1, InvalidMessage = 2, AddonMessageThrottle = 3, InvalidChatType = 4,
    NotInGroup = 5, TargetRequired = 6, InvalidChannel = 7, ChannelThrottle = 8, GeneralError = 9,
    NotInGuild = 10, AddOnMessageLockdown = 11, TargetOffline = 12,
  },
  RegisterAddonMessagePrefixResult = { Success = 0, DuplicatePrefix = 1, InvalidPrefix = 2, MaxPrefixes = 3 },
}

C_ChatInfo = {}
function C_ChatInfo.RegisterAddonMessagePrefix(prefix)
  if type(prefix) ~= "string" then error("Usage: C_ChatInfo.RegisterAddonMessagePrefix(prefix)", 2) end
  return host.register_prefix(prefix)
end
function C_ChatInfo.IsAddonMessagePrefixRegistered(prefix)
  if type(prefix) ~= "string" then error("Usage: C_ChatInfo.IsAddonMessagePrefixRegistered(prefix)", 2) end
  return host.is_prefix_registered(prefix)
end
function C_ChatInfo.SendAddonMessage(prefix, text, chat_type, target)
  if type(prefix) ~= "string" or type(text) ~= "string" or (chat_type ~= nil and type(chat_type) ~= "string")
    or (target ~= nil and type(target) ~= "string") then
    error("Usage: C_ChatInfo.SendAddonMessage(prefix, text [, chatType [, target]])", 2)
  end
  return host.send_addon_message(prefix, text, chat_type, target)
end

------------------------------------------------------------------------------------------------
-- Addon profiling: each addon's time per frame (C_AddOnProfiler, times in ms), its CPU time
-- (GetAddOnCPUUsage), and a wall clock for addons that time themselves (debugprofilestop).

Enum.AddOnProfilerMetric = {
  SessionAverageTime = 0, RecentAverageTime = 1, EncounterAverageTime = 2, LastTime = 3, PeakTime = 4,
  CountTimeOver1Ms = 5, CountTimeOver5Ms = 6, CountTimeOver10Ms = 7, CountTimeOver50Ms = 8,
  CountTimeOver100Ms = 9, CountTimeOver500Ms = 10, CountTimeOver1000Ms = 11,
}

local function is_metric(metric)
  return type(metric) == "number" and metric >= 0 and metric <= 11 and metric % 1 == 0
end

C_AddOnProfiler = {}
function C_AddOnProfiler.IsEnabled() return enter ~= nil end
function C_AddOnProfiler.GetAddOnMetric(name, metric)
  if type(name) ~= "string" or not is_metric(metric) then
    error("Usage: C_AddOnProfiler.GetAddOnMetric(addonName, Enum.AddOnProfilerMetric.x)", 2)
  end
  return host.profile_metric(name, metric)
end
function C_AddOnProfiler.GetOverallMetric(metric)
  if not is_metric(metric) then error("Usage: C_AddOnProfiler.GetOverallMetric(Enum.AddOnProfilerMetric.x)", 2) end
  return host.profile_metric(nil, metric)
end

-- GetAddOnCPUUsage(name) -> ms the addon ran up to the last UpdateAddOnCPUUsage()
function GetAddOnCPUUsage(name)
  if type(name) ~= "string" then error("Usage: GetAddOnCPUUsage(addonName)", 2) end
  return host.cpu_usage(name)
end
UpdateAddOnCPUUsage = host.update_cpu_usage
ResetCPUUsage = host.reset_cpu_usage

local clock_ms = host.clock_ms
local profile_start = clock_ms()
function debugprofilestart() profile_start = clock_ms() end
-- debugprofilestop() -> ms since debugprofilestart() (or since the client started)
function debugprofilestop() return clock_ms() - profile_start end

------------------------------------------------------------------------------------------------
-- Slash commands

SlashCmdList = {}

-- Runs "/cmd rest" typed into the chat box. Returns true when a handler took it.
function internal.run_slash(text)
  local command, rest = strmatch(text, "^(/%S+)%s*(.-)%s*$")
  if not command then return false end
  command = strlower(command)
  local keys = {}
  for key, handler in next, SlashCmdList do
    if type(key) == "string" and type(handler) == "function" then keys[#keys + 1] = key end
  end
  tsort(keys)
  for _, key in ipairs(keys) do
    local i = 1
    while true do
      local alias = rawget(_G, "SLASH_" .. key .. i)
      if type(alias) ~= "string" then break end
      if strlower(alias) == command then
        call_as(WORK.Slash, key, SlashCmdList[key], rest, nil)
        return true
      end
      i = i + 1
    end
  end
  host.log("Unknown command: " .. command)
  return false
end

------------------------------------------------------------------------------------------------
-- Global aliases the game defines

function strsplit(delimiter, text, pieces)
  if type(delimiter) ~= "string" or type(text) ~= "string" then error("Usage: strsplit(delimiter, str [, pieces])", 2) end
  local out, start = {}, 1
  while true do
    if pieces and #out == pieces - 1 then break end
    local first, last = strfind(text, "[" .. strgsub(delimiter, "[%]%^%-%%]", "%%%0") .. "]", start)
    if not first then break end
    out[#out + 1] = strsub(text, start, first - 1)
    start = last + 1
  end
  out[#out + 1] = strsub(text, start)
  return unpack(out)
end

function strjoin(delimiter, ...)
  return tconcat({ ... }, delimiter)
end

function strtrim(text, chars)
  if chars then
    local class = "[" .. strgsub(chars, "[%]%^%-%%]", "%%%0") .. "]"
    return (strgsub(strgsub(text, "^" .. class .. "+", ""), class .. "+$", ""))
  end
  return strmatch(text, "^%s*(.-)%s*$")
end

function wipe(t)
  for k in next, t do t[k] = nil end
  return t
end
table.wipe = wipe

function tContains(t, value)
  for i = 1, #t do
    if t[i] == value then return true end
  end
  return false
end

-- The short names the game gives library functions (locals above would shadow plain assignment).
for alias, fn in next, {
  strmatch = string.match, strfind = string.find, strsub = string.sub, strlen = string.len,
  strlower = string.lower, strupper = string.upper, strrep = string.rep, strbyte = string.byte,
  strchar = string.char, strrev = string.reverse, gsub = string.gsub, gmatch = string.gmatch,
  format = string.format, tinsert = table.insert, tremove = table.remove, sort = table.sort,
  getn = table.getn, abs = math.abs, ceil = math.ceil, floor = math.floor, max = math.max,
  min = math.min, mod = math.fmod, sqrt = math.sqrt, exp = math.exp, log = math.log,
  log10 = math.log10, random = math.random,
} do
  _G[alias] = fn
end

return internal
