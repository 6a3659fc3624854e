CycleA = {}
