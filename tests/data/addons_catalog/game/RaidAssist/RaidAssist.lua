RaidAssist = {}
