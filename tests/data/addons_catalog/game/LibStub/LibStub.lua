LibStub = LibStub or {}
