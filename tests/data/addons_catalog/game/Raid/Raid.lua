Raid = {}
