#!/usr/bin/env luajit
local t, n = {}, 0
for i = 1, 10 do t[i] = i * i end
for k, v in pairs(t) do n = n + v end
while n > 0 do n = n - 7 end
repeat n = n + 1 until n >= 3
local function fact(x) if x <= 1 then return 1 end return x * fact(x - 1) end
local obj = {}
function obj:method(a, ...) return self, a, select('#', ...) end
function obj.field.deep() end
do local x = 1 end
for i = 1, 3 do
  if i == 2 then goto continue end
  print(i)
  ::continue::
end
::top:: ; local goto = 1
return fact(5), function() return goto end
