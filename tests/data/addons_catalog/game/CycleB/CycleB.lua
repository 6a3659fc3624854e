CycleB = {}
