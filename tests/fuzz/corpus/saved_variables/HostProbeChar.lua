HostProbeCharDB = {
	["seen"] = 3,
	[1] = "one",
	[2.5] = "half",
	[-1] = 1e+300,
	[true] = "yes",
	["bytes"] = "\000\255\r\t\a",
	["hex"] = 0x1F,
	["exp"] = 1.5e-7,
}
Empty = {}
Flag = true; Count = -0
